"""Pure: what a browser reads off an HTML page to go on: its forms (action, method, fields and
submit buttons) and the messages it shows (Gitea's flash errors, its headings). The standard
library's html.parser, no I/O: the caller fetches the page and sends the submission."""

from __future__ import annotations

from dataclasses import dataclass
from html.parser import HTMLParser

SUBMIT_TYPES = ("submit", "image")
# Gitea's base/alert.tmpl: `<div class="ui negative message flash-message flash-error">`.
ALERT_CLASSES = ("flash-error", "negative")
HEADINGS = ("h1", "h2", "h3", "h4")


@dataclass(frozen=True)
class Field:
    name: str
    value: str
    kind: str  # the input's type ("hidden", "text", "password", "submit", …), or "button"
    id: str = ""


@dataclass(frozen=True)
class Form:
    action: str  # as written; "" means the page's own address
    method: str  # upper case
    fields: tuple[Field, ...]  # every named input but the submit buttons
    buttons: tuple[Field, ...]  # the submit buttons, named or not

    def names(self) -> set[str]:
        return {item.name for item in self.fields}

    def hidden(self) -> dict[str, str]:
        return {item.name: item.value for item in self.fields if item.kind == "hidden"}

    def submission(self, values: dict[str, str], button: Field | None = None) -> dict[str, str]:
        """Pure: what a browser sends: the hidden fields, `values` over them, and the clicked
        button's name and value when it has a name."""
        sent = {**self.hidden(), **values}
        if button is not None and button.name:
            sent[button.name] = button.value
        return sent


@dataclass(frozen=True)
class Page:
    forms: tuple[Form, ...]
    alerts: tuple[str, ...]  # the text of each error message box
    headings: tuple[str, ...]

    def form_with(self, *names: str) -> Form | None:
        """The first form that has every one of these fields."""
        return next((form for form in self.forms if set(names) <= form.names()), None)

    def form_to(self, path: str) -> Form | None:
        """The first form whose action ends with `path` (query left out)."""
        return next((form for form in self.forms if form.action.split("?")[0].rstrip("/").endswith(path)), None)

    def says(self) -> str:
        """Pure: the page's error messages, or else its headings, in one line."""
        return "; ".join(self.alerts) or ": ".join(self.headings)


class _Reader(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.forms: list[Form] = []
        self.alerts: list[str] = []
        self.headings: list[str] = []
        self._form: tuple[str, str] | None = None
        self._fields: list[Field] = []
        self._buttons: list[Field] = []
        self._text: list[str] | None = None  # the alert or heading being read
        self._text_tag, self._text_depth, self._text_into = "", 0, self.alerts

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        attr = {name: value or "" for name, value in attrs}
        if self._text is not None and tag == self._text_tag:
            self._text_depth += 1
        elif self._text is None and (tag in HEADINGS or set(attr.get("class", "").split()) & set(ALERT_CLASSES)):
            self._text, self._text_tag, self._text_depth = [], tag, 1
            self._text_into = self.headings if tag in HEADINGS else self.alerts
        if tag == "form":
            self._close_form()
            self._form = (attr.get("action", ""), (attr.get("method") or "get").upper())
        elif tag == "input" and self._form is not None:
            self._input(attr)
        elif tag == "button" and self._form is not None and (attr.get("type") or "submit").lower() == "submit":
            self._buttons.append(Field(attr.get("name", ""), attr.get("value", ""), "button", attr.get("id", "")))

    def _input(self, attr: dict[str, str]) -> None:
        kind = (attr.get("type") or "text").lower()
        item = Field(attr.get("name", ""), attr.get("value", ""), kind, attr.get("id", ""))
        if kind in SUBMIT_TYPES:
            self._buttons.append(item)
        elif item.name and (kind not in ("checkbox", "radio") or "checked" in attr):
            self._fields.append(item)

    def handle_endtag(self, tag: str) -> None:
        if self._text is not None and tag == self._text_tag:
            self._text_depth -= 1
            if self._text_depth == 0:
                words = " ".join("".join(self._text).split())
                if words:
                    self._text_into.append(words)
                self._text = None
        if tag == "form":
            self._close_form()

    def handle_data(self, data: str) -> None:
        if self._text is not None:
            self._text.append(data)

    def _close_form(self) -> None:
        if self._form is not None:
            self.forms.append(Form(*self._form, tuple(self._fields), tuple(self._buttons)))
        self._form, self._fields, self._buttons = None, [], []


def read_page(html: str) -> Page:
    """Pure: the forms, error messages and headings of an HTML page."""
    reader = _Reader()
    reader.feed(html)
    reader.close()
    reader._close_form()  # a form the page never closed still counts, as in a browser
    return Page(tuple(reader.forms), tuple(reader.alerts), tuple(reader.headings))
