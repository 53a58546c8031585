"""AuthorizeOAuth and GrantApplicationOAuth of routers/web/auth/oauth2_provider.go, for a signed-in
user (read, not copied): an unknown client or an unregistered redirect URI is a 400 error page (no
redirect to an address Gitea cannot trust); other refusals go back to the redirect URI as
`error`, `error_description`, `state`; a public client must use PKCE; a confidential client the
user already granted gets its code at once; otherwise the consent page, whose form must come back
with the same client, state and redirect URI the session remembers (else 400).
"""

from __future__ import annotations

import html

from tests.fakes.gitea_json import Answer, plain
from tests.fakes.gitea_login import Page, code_redirect, new_grant, redirect_allowed, with_query


def _error_page(page: Page, description: str) -> Answer:
    return page.html(400, f'<div class="ui negative message"><p>{html.escape(description)}</p></div>')


def _refuse(page: Page, redirect_uri: str, code: str, description: str, state: str) -> Answer:
    return page.redirect(with_query(redirect_uri, {"error": code, "error_description": description,
                                                   "state": state}))


def authorize(page: Page, form: dict) -> Answer:
    if not form.get("client_id") or not form.get("response_type"):
        return plain(500, "Internal Server Error")  # the form's binding fails: ctx.ServerError
    state, redirect_uri = form.get("state", ""), form.get("redirect_uri", "")
    app = page.gitea.oauth.app(form["client_id"])
    if app is None:
        return _error_page(page, "Client ID not registered")
    if not redirect_allowed(app, redirect_uri):
        return _error_page(page, "Unregistered Redirect URI")
    if form["response_type"] != "code":
        return _refuse(page, redirect_uri, "unsupported_response_type", "Only code response type is supported.",
                       state)
    method, challenge = form.get("code_challenge_method", ""), form.get("code_challenge", "")
    if method in ("S256", "plain"):
        page.session |= {"CodeChallengeMethod": method, "CodeChallenge": challenge}
    elif method == "" and not app.confidential:
        return _refuse(page, redirect_uri, "invalid_request", "PKCE is required for public clients", state)
    elif method != "":
        return _refuse(page, redirect_uri, "invalid_request", "unsupported code challenge method", state)
    assert page.user is not None
    grant = next((g for g in page.gitea.oauth.grants if g.app_id == app.id and g.user_id == page.user.id), None)
    if grant is not None and app.confidential:
        grant.scope = form.get("scope", "")
        return code_redirect(page, grant, redirect_uri, state, challenge, method)
    page.session |= {"client_id": app.client_id, "redirect_uri": redirect_uri, "state": state}
    hidden = {"client_id": app.client_id, "state": state, "scope": form.get("scope", ""),
              "nonce": form.get("nonce", ""), "redirect_uri": redirect_uri}
    inputs = "\n".join(f'<input type="hidden" name="{n}" value="{html.escape(v)}">' for n, v in hidden.items())
    return page.html(200, f"""<div class="page-content oauth2-authorize-application-box">
<h3 class="ui top attached header">Authorize {html.escape(app.name)}</h3>
<div class="ui attached segment"><p>You will be redirected to <strong>{html.escape(redirect_uri)}</strong>
if you authorize this application.</p></div>
<div class="ui attached segment"><form method="post" action="/login/oauth/grant">
{page.csrf_input()}
{inputs}
<button type="submit" id="authorize-app" name="granted" value="true" class="ui red inline button">Authorize
Application</button>
<button type="submit" name="granted" value="false" class="ui basic primary inline button">Cancel</button>
</form></div></div>""")


def grant(page: Page, form: dict) -> Answer:
    state, redirect_uri = form.get("state", ""), form.get("redirect_uri", "")
    remembered = (page.session.get("client_id"), page.session.get("state"), page.session.get("redirect_uri"))
    if remembered != (form.get("client_id"), state, redirect_uri):
        return plain(400, "Bad Request")
    if form.get("granted") != "true":
        return _refuse(page, redirect_uri, "access_denied", "the request is denied", state)
    app = page.gitea.oauth.app(form.get("client_id", ""))
    if app is None:
        return plain(500, "Internal Server Error")
    assert page.user is not None
    found = next((g for g in page.gitea.oauth.grants if g.app_id == app.id and g.user_id == page.user.id), None)
    chosen = found or new_grant(page, app, form.get("scope", ""))
    chosen.scope = form.get("scope", "")
    return code_redirect(page, chosen, redirect_uri, state, page.session.get("CodeChallenge", ""),
                         page.session.get("CodeChallengeMethod", ""))
