"""Web-test helpers: a browser-like session (cookies, login, CSRF token) and page readers."""

from __future__ import annotations

from typing import Any

from bs4 import BeautifulSoup

from tests import factories

PASSWORD = "correct-horse-123"


def person(token: bool = False) -> dict[str, Any]:
    """A registered user who can log in with PASSWORD (and, with ``token``, an API token)."""
    return (factories.UserWithToken if token else factories.User)(password=PASSWORD)


class Browser:
    """A browser session: one cookie jar, logged in as a user (or anonymous). Each post sends the
    session's CSRF token, read from a page first as a browser would, unless ``csrf=False``."""

    def __init__(self, app: Any, user: dict[str, Any] | None = None) -> None:
        self.client = app.test_client()
        if user is not None:
            response = self.post("/user/login", {"login": user["name"], "password": PASSWORD})
            assert response.status_code == 302, "login failed"

    def get(self, path: str, **kwargs: Any) -> Any:
        kwargs.setdefault("follow_redirects", False)  # CKAN's test client follows them by default
        return self.client.get(path, **kwargs)

    def page(self, path: str) -> BeautifulSoup:
        response = self.get(path)
        assert response.status_code == 200, (path, response.status_code)
        return BeautifulSoup(response.get_data(as_text=True), "html.parser")

    def csrf_token(self) -> str:
        page = BeautifulSoup(self.get("/agreement").get_data(as_text=True), "html.parser")
        return page.find("meta", {"name": "_csrf_token"})["content"]

    def post(self, path: str, data: dict[str, Any], csrf: bool = True, **kwargs: Any) -> Any:
        if csrf:
            data = {**data, "_csrf_token": self.csrf_token()}
        kwargs.setdefault("follow_redirects", False)
        return self.client.post(path, data=data, **kwargs)


def text(response: Any) -> str:
    return BeautifulSoup(response.get_data(as_text=True), "html.parser").get_text(" ", strip=True)


def soup(response: Any) -> BeautifulSoup:
    return BeautifulSoup(response.get_data(as_text=True), "html.parser")


def field_error(page: BeautifulSoup, field_id: str) -> str:
    """The error shown next to a field (CKAN's form macros put it in the field's form group)."""
    group = page.find(id=field_id).find_parent(class_="form-group")
    return group.get_text(" ", strip=True)


def is_login_redirect(response: Any) -> bool:
    return response.status_code == 302 and "/user/login" in response.headers["Location"]
