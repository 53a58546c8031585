"""Gitea's sign-in, grant and grant-error pages as its templates render them, for three eras:

- 1.17: templates/user/auth/signin_inner.tmpl at go-gitea/gitea 688afbd (`.i18n.Tr`, `inline
  field`); base/head then carried the token in `<meta name="_csrf">` too. Its grant page is the
  pre-`granted` one: `<input type="submit" id="authorize-app" value=…>`, no name (the form struct
  GrantApplicationForm had no Granted field); this shape is from memory of that template.
- 1.22: signin_inner.tmpl with `ctx.Locale.Tr` and `required field`; grant.tmpl at 17205fa with
  `{{.CsrfTokenHtml}}` and the two `name="granted"` buttons (true / false).
- 1.26: grant.tmpl at 034996b, and forms with no `_csrf` field (PR #36183 replaced the CSRF token
  with http.CrossOriginProtection).

`{{.CsrfTokenHtml}}` renders as `<input type="hidden" name="_csrf" value="…">` (services/context);
base/alert.tmpl renders a flash error as `<div class="ui negative message flash-message flash-error">`.
"""

from __future__ import annotations

from html import escape


def _csrf_input(csrf: str) -> str:
    return f'<input type="hidden" name="_csrf" value="{escape(csrf)}">' if csrf else ""


def _alert(error: str) -> str:
    if not error:
        return ""
    return f'<div class="ui negative message flash-message flash-error">\n\t<p>{escape(error)}</p>\n</div>'


def _document(body: str, csrf: str = "", title: str = "Sign In - Gitea: Git with a cup of tea") -> str:
    meta = f'<meta name="_csrf" content="{escape(csrf)}" />' if csrf else ""
    return (f'<!DOCTYPE html>\n<html lang="en-US" class="theme-auto">\n<head>\n\t<meta charset="utf-8">\n'
            f'\t<title>{title}</title>\n\t{meta}\n\t<script>window.config = {{appSubUrl: \'\'}};</script>\n'
            f'</head>\n<body>\n<div class="full height">\n<div role="main" class="page-content user signin">\n'
            f'{body}\n</div>\n</div>\n<footer class="page-footer" role="group" aria-label="Footer"></footer>\n'
            '</body>\n</html>\n')


def signin_1_17(csrf: str, user_name: str = "", error: str = "") -> str:
    inner = f'''
		{_alert(error)}
		<h4 class="ui top attached header center">Sign In</h4>
		<div class="ui attached segment">
			<form class="ui form" action="/user/login" method="post">
			{_csrf_input(csrf)}
			<div class="required inline field {"error" if error else ""}">
				<label for="user_name">Username or Email Address</label>
				<input id="user_name" name="user_name" value="{escape(user_name)}" autofocus required>
			</div>
			<div class="required inline field {"error" if error else ""}">
				<label for="password">Password</label>
				<input id="password" name="password" type="password" value="" autocomplete="off" required>
			</div>
			<div class="inline field">
				<label></label>
				<div class="ui checkbox">
					<label>Remember This Device</label>
					<input name="remember" type="checkbox">
				</div>
			</div>
			<div class="inline field">
				<label></label>
				<button class="ui green button">Sign In</button>
				<a href="/user/forgot_password">Forgot password?</a>
			</div>
			</form>
		</div>'''
    return _document(inner, csrf)


def signin_1_22(csrf: str, user_name: str = "", error: str = "") -> str:
    inner = f'''
<div class="ui container fluid">
	{_alert(error)}
	<h4 class="ui top attached header center">Sign In</h4>
	<div class="ui attached segment">
		<form class="ui form" action="/user/login" method="post">
			{_csrf_input(csrf)}
			<div class="required field {"error" if error else ""}">
				<label for="user_name">Username or Email Address</label>
				<input id="user_name" type="text" name="user_name" value="{escape(user_name)}" autofocus required>
			</div>
			<div class="required field {"error" if error else ""}">
				<label for="password">Password</label>
				<input id="password" name="password" type="password" value="" autocomplete="current-password" required>
			</div>
			<div class="inline field">
				<div class="ui checkbox">
					<label>Remember This Device</label>
					<input name="remember" type="checkbox">
				</div>
			</div>
			<div class="field">
				<button class="ui primary button tw-w-full">Sign In</button>
			</div>
		</form>
	</div>
</div>'''
    return _document(inner)


def signin_1_26(user_name: str = "", error: str = "") -> str:
    return signin_1_22("", user_name, error)


def signin_without_password_form() -> str:
    """A sign-in page of a Gitea that allows only an outside identity provider."""
    return _document('''
	<h4 class="ui top attached header center">Sign In</h4>
	<div class="ui attached segment">
		<div id="oauth2-login-navigator">
			<a class="ui button" href="/user/oauth2/keycloak">Sign in with keycloak</a>
		</div>
	</div>''')


def _grant_fields(client_id: str, state: str, redirect_uri: str, scope: str = "", nonce: str = "") -> str:
    return (f'<input type="hidden" name="client_id" value="{escape(client_id)}">\n'
            f'\t\t\t\t\t<input type="hidden" name="state" value="{escape(state)}">\n'
            f'\t\t\t\t\t<input type="hidden" name="scope" value="{escape(scope)}">\n'
            f'\t\t\t\t\t<input type="hidden" name="nonce" value="{escape(nonce)}">\n'
            f'\t\t\t\t\t<input type="hidden" name="redirect_uri" value="{escape(redirect_uri)}">')


def _grant_page(form: str) -> str:
    return _document(f'''
<div role="main" aria-label="Authorize Application" class="page-content oauth2-authorize-application-box">
	<h3 class="ui top attached header">Authorize "drone" to access your account?</h3>
	<div class="ui attached segment">
		<p><b>If you grant the access, it will be able to access and write to all your account information.</b><br>
		This application was created by <a href="/gitadmin">@gitadmin</a>.</p>
	</div>
	<div class="ui attached segment">
		<form method="post" action="/login/oauth/grant">
			{form}
		</form>
	</div>
</div>''', title="Authorize Application - Gitea")


def grant_1_17(csrf: str, client_id: str, state: str, redirect_uri: str) -> str:
    return _grant_page(f'''{_csrf_input(csrf)}
					{_grant_fields(client_id, state, redirect_uri)}
					<input type="submit" id="authorize-app" value="Authorize Application" class="ui red inline button"/>
					<a href="{escape(redirect_uri)}" class="ui basic primary inline button">Cancel</a>''')


def grant_1_22(csrf: str, client_id: str, state: str, redirect_uri: str) -> str:
    return _grant_page(f'''{_csrf_input(csrf)}
					{_grant_fields(client_id, state, redirect_uri)}
					<button type="submit" id="authorize-app" name="granted" value="true" class="ui red inline button">\
Authorize Application</button>
					<button type="submit" name="granted" value="false" class="ui basic primary inline button">\
Cancel</button>''')


def grant_1_26(client_id: str, state: str, redirect_uri: str) -> str:
    return grant_1_22("", client_id, state, redirect_uri)


def grant_error(description: str) -> str:
    """templates/user/auth/grant_error.tmpl, answered with 400."""
    return _document(f'''
<div class="page-content ui one column stackable center aligned page grid oauth2-authorize-application-box">
	<div class="column seven wide">
		<div class="ui middle centered raised segments">
			<h1 class="ui top attached header">Authorization failed</h1>
			<h3 class="ui attached segment">{escape(description)}</h3>
			<div class="ui attached segment">
				<p>We have detected an invalid request. Please contact the maintainer of the app you \
have tried to authorize.</p>
			</div>
		</div>
	</div>
</div>''', title="Authorization failed - Gitea")
