def write_html(results, path):
    path.write_text("todo")
