"""The explorer's web application: server-rendered pages, each with a JSON twin under /api.

Every page is one function of `Explorer` (pages.py); `twin` registers it twice, at `/path` rendered by
its template and at `/api/path` as JSON, so both always carry the same data. Read-only: the only form
(the contract check) computes an answer and changes nothing; nothing here signs.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable
from pathlib import Path
from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import FastAPI, File, Form, Request, UploadFile
from fastapi.exceptions import RequestValidationError
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from fastapi.staticfiles import StaticFiles
from fastapi.templating import Jinja2Templates
from pydantic import BaseModel, Field

from offnet.explorer import charts
from offnet.explorer.follower import Follower
from offnet.explorer.pages import BadInput, Explorer, NotFound
from offnet.indexer import IndexStore

HERE = Path(__file__).resolve().parent
MAX_DOCUMENT = 1 << 20  # a financial contract is a few KiB of JSON; refuse anything above 1 MiB
MAX_BODY = 2 * MAX_DOCUMENT + 64 * 1024  # the form: document text or file, salt, order id

NAVIGATION = (
    ("/providers", "Providers"),
    ("/rfqs", "RFQs"),
    ("/orders", "Orders"),
    ("/contract-check", "Contract check"),
    ("/council", "Council"),
)


class ContractCheck(BaseModel):
    """The contract check's JSON form: an order, the salt and the document (text)."""

    order: str
    salt: str
    document: str = Field(max_length=MAX_DOCUMENT)


def _other_parameters(request: Request) -> str:
    """The page's query string without its page number, ready for `page=N` to be appended."""
    kept = urlencode([(k, v) for k, v in request.query_params.multi_items() if k != "page" and v])
    return f"{kept}&" if kept else ""


def create_app(store: IndexStore, follower: Follower | None = None) -> FastAPI:
    """The explorer over `store` (kept in sync by `follower`, or served as it stands without one)."""
    explorer = Explorer(store, follower)
    app = FastAPI(title="offnet explorer", docs_url=None, redoc_url=None, openapi_url="/api/openapi.json")
    app.state.explorer = explorer
    templates = Jinja2Templates(directory=HERE / "templates")
    templates.env.globals["keep"] = _other_parameters
    app.mount("/static", StaticFiles(directory=HERE / "static"), name="static")

    def render(request: Request, template: str, page: dict[str, Any], **extra: Any) -> HTMLResponse:
        return templates.TemplateResponse(
            request,
            template,
            {
                "page": page,
                "status": explorer.status(),
                "navigation": NAVIGATION,
                "path": request.url.path,
                **extra,
            },
        )

    def twin(path: str, template: str, data: Callable[..., dict[str, Any]], **charted: Callable) -> None:
        """Serve `data` at `/api{path}` as JSON and at `path` rendered by `template` (with charts
        drawn from the same data)."""
        signature = inspect.signature(data)

        def api(**kwargs: Any) -> dict[str, Any]:
            return {**data(**kwargs), "index": explorer.status()}

        def page(request: Request, **kwargs: Any) -> HTMLResponse:
            found = data(**kwargs)
            return render(request, template, found, charts={k: draw(found) for k, draw in charted.items()})

        api.__signature__ = signature  # type: ignore[attr-defined]
        page.__signature__ = signature.replace(  # type: ignore[attr-defined]
            parameters=[
                inspect.Parameter("request", inspect.Parameter.POSITIONAL_OR_KEYWORD, annotation=Request),
                *signature.parameters.values(),
            ]
        )
        app.get(f"/api{path}", name=f"api:{template}")(api)
        app.get(path, response_class=HTMLResponse, name=template)(page)

    twin("/providers", "providers.html", explorer.providers)
    twin(
        "/providers/{address}",
        "provider.html",
        explorer.provider,
        reputation=lambda p: charts.reputation_chart(p["reputationHistory"]),
        sla=lambda p: charts.sla_chart(p["slaMonths"]),
    )
    twin("/rfqs", "rfqs.html", explorer.rfqs)
    twin("/rfqs/{rfq_id}", "rfq.html", explorer.rfq)
    twin("/orders", "orders.html", explorer.orders)
    twin("/orders/{order_id}", "order.html", explorer.order, money=lambda p: charts.money_chart(p["money"]))
    twin("/council", "council.html", explorer.council)
    twin("/blocks/{number}", "block.html", explorer.block)
    twin("/contract-check", "contract_check.html", explorer.contract)

    @app.get("/")
    def home() -> RedirectResponse:
        return RedirectResponse("/providers", status_code=307)

    @app.get("/api/status")
    def status() -> dict[str, Any]:
        return explorer.status()

    @app.post("/contract-check", response_class=HTMLResponse)
    async def check_contract_form(
        request: Request,
        order: Annotated[str, Form()],
        salt: Annotated[str, Form()],
        document: Annotated[str, Form()] = "",
        upload: Annotated[UploadFile | None, File()] = None,
    ) -> HTMLResponse:
        text: str | bytes = document
        if upload is not None and upload.filename:
            text = await upload.read(MAX_DOCUMENT + 1)
            if len(text) > MAX_DOCUMENT:
                raise BadInput(f"the uploaded document is larger than {MAX_DOCUMENT:,} bytes")
        elif len(document.encode()) > MAX_DOCUMENT:
            raise BadInput(f"the document is larger than {MAX_DOCUMENT:,} bytes")
        result = explorer.check_contract(order, salt, text)
        pasted = document if isinstance(text, str) else ""
        return render(
            request, "contract_check.html", result, checked=True, salt=salt.strip(), document=pasted
        )

    @app.post("/api/contract-check")
    def check_contract_api(body: ContractCheck) -> dict[str, Any]:
        return explorer.check_contract(body.order, body.salt, body.document)

    def refusal(request: Request, status_code: int, message: str) -> Response:
        if request.url.path.startswith("/api/"):
            return JSONResponse({"error": message}, status_code=status_code)
        response = render(request, "error.html", {"message": message, "code": status_code})
        response.status_code = status_code
        return response

    @app.middleware("http")
    async def bounded_bodies(request: Request, call_next: Callable) -> Response:
        """A body is read only when it says its length and that length is small: an upload is never
        spooled to disk first and refused afterwards."""
        if request.method == "POST":
            length = request.headers.get("content-length", "")
            if not length.isdigit() or int(length) > MAX_BODY:
                return refusal(
                    request, 413, f"a request body must give its length and stay under {MAX_BODY:,} bytes"
                )
        return await call_next(request)

    @app.exception_handler(NotFound)
    async def not_found(request: Request, exc: NotFound) -> Response:
        return refusal(request, 404, str(exc))

    @app.exception_handler(BadInput)
    async def bad_input(request: Request, exc: BadInput) -> Response:
        return refusal(request, 400, str(exc))

    @app.exception_handler(RequestValidationError)
    async def invalid(request: Request, exc: RequestValidationError) -> Response:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in e['loc'][1:]) or 'request'}: {e['msg']}" for e in exc.errors()
        )
        return refusal(request, 400, problems)

    return app
