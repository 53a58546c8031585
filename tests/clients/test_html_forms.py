"""Reading forms and messages off pages shaped like Gitea's real templates (rendered in
rendered_gitea_pages), across the versions whose forms differ."""

from __future__ import annotations

import pytest

from drone_kit.clients.html_forms import Field, read_page
from tests.clients import rendered_gitea_pages as pages

CSRF = "eyJhbGciOi.Q2lw-_token=="
REDIRECT = "http://drone.lan/login"


@pytest.mark.parametrize("html, csrf", [
    (pages.signin_1_17(CSRF), CSRF),
    (pages.signin_1_22(CSRF), CSRF),
    (pages.signin_1_26(), None),
])
def test_the_sign_in_form_of_each_gitea(html, csrf):
    page = read_page(html)
    form = page.form_with("user_name", "password")
    assert form is not None
    assert (form.action, form.method) == ("/user/login", "POST")
    assert form.hidden() == ({"_csrf": csrf} if csrf else {})
    assert {"user_name", "password"} <= form.names()
    assert "remember" not in form.names()  # an unticked checkbox is not sent
    assert [button.kind for button in form.buttons] == ["button"]
    assert form.submission({"user_name": "gitadmin", "password": "pw"}) == {
        **({"_csrf": csrf} if csrf else {}), "user_name": "gitadmin", "password": "pw"}


def test_the_sign_in_page_has_no_alert_until_a_sign_in_fails():
    assert read_page(pages.signin_1_22(CSRF)).alerts == ()
    failed = read_page(pages.signin_1_22(CSRF, user_name="gitadmin", error="Username or password is incorrect."))
    assert failed.alerts == ("Username or password is incorrect.",)
    assert failed.says() == "Username or password is incorrect."
    assert failed.form_with("user_name", "password").fields[1] == Field("user_name", "gitadmin", "text", "user_name")


def test_a_sign_in_page_without_a_password_form():
    page = read_page(pages.signin_without_password_form())
    assert page.form_with("user_name", "password") is None
    assert page.headings == ("Sign In",)


@pytest.mark.parametrize("html, csrf, granted", [
    (pages.grant_1_17(CSRF, "c1d2", "5f3a", REDIRECT), CSRF, None),
    (pages.grant_1_22(CSRF, "c1d2", "5f3a", REDIRECT), CSRF, "true"),
    (pages.grant_1_26("c1d2", "5f3a", REDIRECT), None, "true"),
])
def test_the_grant_form_of_each_gitea(html, csrf, granted):
    form = read_page(html).form_to("/login/oauth/grant")
    assert form is not None and form.method == "POST"
    assert form.hidden() == {**({"_csrf": csrf} if csrf else {}), "client_id": "c1d2", "state": "5f3a", "scope": "",
                             "nonce": "", "redirect_uri": REDIRECT}
    authorize = next(button for button in form.buttons if button.id == "authorize-app")
    sent = form.submission({}, authorize)
    assert sent.get("granted") == granted
    if granted:  # the cancel button is there too, and says false
        assert [(button.name, button.value) for button in form.buttons] == [("granted", "true"), ("granted", "false")]


def test_the_grant_error_page_says_why_in_its_headings():
    page = read_page(pages.grant_error("Client ID not registered"))
    assert page.forms == ()
    assert page.says() == "Authorization failed: Client ID not registered"


def test_entities_in_values_are_read_as_a_browser_reads_them():
    html = pages.grant_1_22(CSRF, "c1", "a&b\"c", "http://drone.lan/login?x=1&y=<2>")
    hidden = read_page(html).form_to("/login/oauth/grant").hidden()
    assert hidden["state"] == 'a&b"c' and hidden["redirect_uri"] == "http://drone.lan/login?x=1&y=<2>"
    assert "&amp;" in html  # the page really carried them escaped


def test_forms_are_told_apart_and_defaults_filled_in():
    html = """<form action="/explore/repos"><input name="q" value="x"></form>
    <form method="post"><input type="hidden" name="a" value="1"><input type="checkbox" name="keep" checked>
    <input type="radio" name="r" value="no"><button type="button" name="b">x</button>
    <input type="submit" name="go" value="Go"><textarea name="ignored"></textarea>"""  # never closed
    search, second = read_page(html).forms
    assert (search.action, search.method, search.hidden()) == ("/explore/repos", "GET", {})
    assert search.fields == (Field("q", "x", "text"),)
    assert (second.action, second.method) == ("", "POST")
    assert second.names() == {"a", "keep"}  # the checked box, not the unchecked radio
    assert second.buttons == (Field("go", "Go", "submit"),)  # a type=button is not a submit
    assert second.submission({"a": "2"}, second.buttons[0]) == {"a": "2", "go": "Go"}
    assert read_page(html).form_with("a", "missing") is None


def test_inputs_outside_a_form_and_nested_alert_text():
    html = """<input type="hidden" name="_csrf" value="loose">
    <div class="ui negative message flash-error"><div><p>Too many <b>attempts</b></p></div> wait.</div>
    <div class="ui positive message flash-success"><p>Fine</p></div>"""
    page = read_page(html)
    assert page.forms == ()
    assert page.alerts == ("Too many attempts wait.",)
