#!/usr/bin/env node
// offnet's compiler front: solc-js (npm `solc`) answering like the native `solc`
// binary for the two calls the Python tools make (py-solc-x, ape-solidity, Slither):
//   solc --version
//   solc --standard-json [--base-path P] [--include-path P ...] [--allow-paths ...] < input.json
// Native solc cannot be downloaded on our machines, so this is the compiler everywhere.
'use strict';

const fs = require('fs');
const path = require('path');

const projectRoot = path.resolve(__dirname, '..', '..');
const solc = require(path.join(projectRoot, 'node_modules', 'solc'));

function usage(message) {
  process.stderr.write(`solc front: ${message}\n`);
  process.stderr.write('usage: solc --version | solc --standard-json [--base-path P] [--include-path P]...\n');
  process.exit(2);
}

function parseArgs(argv) {
  const opts = { version: false, standardJson: false, basePath: null, includePaths: [] };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    const [flag, inlineValue] = arg.startsWith('--') && arg.includes('=') ? arg.split(/=(.*)/s, 2) : [arg, undefined];
    const value = () => {
      if (inlineValue !== undefined) return inlineValue;
      if (i + 1 >= argv.length) usage(`${flag} needs a value`);
      return argv[++i];
    };
    switch (flag) {
      case '--version': opts.version = true; break;
      case '--standard-json': opts.standardJson = true; break;
      case '--base-path': opts.basePath = value(); break;
      case '--include-path': opts.includePaths.push(value()); break;
      case '--allow-paths': value(); break; // solc-js reads through our callback only; nothing to allow
      case '--pretty-json': case '--no-color': break;
      default:
        // A positional "-" (read stdin) is what some tools pass along with --standard-json.
        if (arg === '-') break;
        usage(`unsupported argument ${arg}`);
    }
  }
  return opts;
}

// Directories searched, in order, for an import path that is not absolute.
function searchRoots(opts) {
  const roots = [];
  const add = (p) => { if (p) { const abs = path.resolve(p); if (!roots.includes(abs)) roots.push(abs); } };
  add(opts.basePath);
  opts.includePaths.forEach(add);
  add(process.cwd());
  add(path.join(process.cwd(), 'node_modules'));
  add(projectRoot);
  add(path.join(projectRoot, 'node_modules'));
  return roots;
}

function makeImportCallback(roots) {
  return function findImport(importPath) {
    const candidates = path.isAbsolute(importPath) ? [importPath] : roots.map((r) => path.join(r, importPath));
    for (const candidate of candidates) {
      try {
        return { contents: fs.readFileSync(candidate, 'utf8') };
      } catch (err) {
        if (err.code !== 'ENOENT' && err.code !== 'EISDIR') return { error: `${candidate}: ${err.message}` };
      }
    }
    return { error: `File not found: ${importPath} (searched ${roots.join(', ')})` };
  };
}

function main() {
  const opts = parseArgs(process.argv.slice(2));
  if (opts.version) {
    const full = solc.version();
    process.stdout.write(`solc, the solidity compiler commandline interface\nVersion: ${full}\n`);
    return;
  }
  if (!opts.standardJson) usage('only --version and --standard-json are supported');
  const input = fs.readFileSync(0, 'utf8');
  const output = solc.compile(input, { import: makeImportCallback(searchRoots(opts)) });
  // Only the JSON, exactly as the native binary prints it: callers parse stdout whole.
  process.stdout.write(output);
  process.stdout.write('\n');
}

main();
