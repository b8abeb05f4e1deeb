"""What the browser tests share: driving the storefront through its data-testid hooks, reading carts
through the API, fresh Cognito users, and screenshots."""

from __future__ import annotations

import os
import shutil
import uuid
from decimal import Decimal
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import boto3
from playwright.sync_api import APIRequestContext, Locator, Page, expect

from tests.support.local_stack import PASSWORD, REPO_ROOT, RunningStack

# Every run saves its screenshots under test-results/ (not tracked); `make screenshots` (that is,
# UPDATE_SCREENSHOTS=1) also refreshes the committed ones in docs/screenshots that the README shows.
SCREENSHOTS = REPO_ROOT / "test-results" / "screenshots"
DOCUMENTED_SCREENSHOTS = REPO_ROOT / "docs" / "screenshots"
# Any 6-digit code confirms a sign-up on the local stack.
CONFIRMATION_CODE = "123456"


def money(cents: int) -> str:
    """The storefront's price format: 1999 -> "$19.99" (US dollars)."""
    return f"${Decimal(cents) / 100:,.2f}"


def new_email(label: str) -> str:
    return f"e2e-{label}-{uuid.uuid4().hex[:10]}@example.com"


def create_user(stack: RunningStack, label: str = "user", *, email: str | None = None) -> str:
    """A confirmed shopper (not an admin), signed up through the endpoint the storefront uses: a new
    one, or `email` (kept if it exists already: screenshots show it, so it stays the same)."""
    config = stack.config
    cognito = boto3.client(
        "cognito-idp",
        endpoint_url=config["userPoolEndpoint"],
        region_name=config["region"],
        aws_access_key_id="test",
        aws_secret_access_key="test",
    )
    email = email or new_email(label)
    try:
        cognito.sign_up(
            ClientId=config["userPoolClientId"],
            Username=email,
            Password=PASSWORD,
            UserAttributes=[{"Name": "email", "Value": email}],
        )
    except cognito.exceptions.UsernameExistsException:
        return email
    cognito.confirm_sign_up(
        ClientId=config["userPoolClientId"], Username=email, ConfirmationCode=CONFIRMATION_CODE
    )
    return email


class CartApi:
    """The cart API through a Playwright request context: a browser context's `request` shares that
    context's cookies (so reads the browser's anonymous cart); with `token`, the user's cart."""

    def __init__(self, stack: RunningStack, request: APIRequestContext, token: str | None = None) -> None:
        self.base = stack.config["cartApiUrl"].rstrip("/")
        self.request = request
        self.headers = {"Authorization": f"Bearer {token}"} if token else {}

    def _call(self, method: str, path: str, body: dict[str, Any] | None = None) -> dict[str, Any]:
        response = self.request.fetch(f"{self.base}{path}", method=method, headers=self.headers, data=body)
        assert response.ok, f"{method} {path}: {response.status} {response.text()}"
        return response.json()

    def lines(self) -> list[dict[str, Any]]:
        return self._call("GET", "/cart")["products"]

    def quantities(self) -> dict[str, int]:
        return {line["productId"]: int(line["quantity"]) for line in self.lines()}

    def add(self, product_id: str, quantity: int = 1) -> dict[str, Any]:
        return self._call("POST", "/cart", {"productId": product_id, "quantity": quantity})

    def set(self, product_id: str, quantity: int) -> dict[str, Any]:
        return self._call("PUT", f"/cart/{product_id}", {"quantity": quantity})

    def clear(self) -> None:
        for product_id in self.quantities():
            self.set(product_id, 0)

    def totals(self) -> dict[str, int]:
        return {t["product"]: int(t["quantity"]) for t in self._call("GET", "/cart/totals")["totals"]}


def catalogue(stack: RunningStack, request: APIRequestContext) -> dict[str, dict[str, Any]]:
    """productId -> product, from the product API."""
    response = request.get(f"{stack.config['productApiUrl'].rstrip('/')}/product")
    assert response.ok, response.text()
    return {p["productId"]: p for p in response.json()["products"]}


class Shop:
    """The storefront in one page, through its data-testid hooks (frontend/README.md)."""

    def __init__(self, page: Page) -> None:
        self.page = page

    def by(self, test_id: str) -> Locator:
        return self.page.get_by_test_id(test_id)

    # Pages and states

    def open(self, path: str = "/") -> Shop:
        self.page.goto(path)
        if path == "/":
            expect(self.by("product-grid")).to_be_visible()
        self.wait_cart_loaded()
        return self

    def wait_cart_loaded(self) -> None:
        expect(self.by("cart-button")).to_have_attribute("data-cart-loaded", "true")
        self.wait_settled()

    def wait_settled(self) -> None:
        """Nothing is being saved, read, merged or checked out."""
        expect(self.page.locator('[data-testid="qty-control"][aria-busy="true"]')).to_have_count(0)
        expect(self.by("cart-busy")).to_have_count(0)

    def wait_images(self) -> None:
        """Every product image on the page has loaded (lazy ones are scrolled to first)."""
        images = self.by("product-image")
        for index in range(images.count()):
            images.nth(index).scroll_into_view_if_needed()
        self.page.wait_for_function(
            """() => [...document.querySelectorAll('[data-testid="product-image"]')]
                .every((img) => img.complete && img.naturalWidth > 0)"""
        )
        self.page.evaluate("window.scrollTo(0, 0)")

    def wait_animations(self) -> None:
        """Finite CSS animations (the drawer sliding in) have finished; spinners are left spinning."""
        self.page.evaluate(
            """() => Promise.all(document.getAnimations()
                .filter((a) => a.effect?.getTiming().iterations !== Infinity)
                .map((a) => a.finished.catch(() => null)))"""
        )

    # Product cards

    def card(self, product_id: str) -> Locator:
        return self.page.locator(f'[data-testid="product-card"][data-product-id="{product_id}"]')

    def plus(self, product_id: str, times: int = 1) -> None:
        button = self.card(product_id).get_by_test_id("qty-plus")
        for _ in range(times):
            button.click()

    def minus(self, product_id: str, times: int = 1) -> None:
        button = self.card(product_id).get_by_test_id("qty-minus")
        for _ in range(times):
            button.click()

    def type_quantity(self, product_id: str, quantity: int | str, within: Locator | None = None) -> None:
        field = (within or self.card(product_id)).get_by_test_id("qty-input")
        field.fill(str(quantity))
        field.press("Enter")

    def expect_in_cart(self, product_id: str, quantity: int) -> None:
        text = f"{quantity} in cart" if quantity else "Not in cart"
        expect(self.card(product_id).get_by_test_id("product-in-cart")).to_have_text(text)
        expect(self.card(product_id).get_by_test_id("qty-input")).to_have_value(str(quantity))

    def expect_count(self, count: int) -> None:
        expect(self.by("cart-count")).to_have_text(str(count))

    def in_cart_texts(self) -> dict[str, str]:
        """productId -> the card's "N in cart" / "Not in cart", for every card."""
        return self.page.eval_on_selector_all(
            '[data-testid="product-card"]',
            """(cards) => Object.fromEntries(cards.map((card) => [
                card.dataset.productId,
                card.querySelector('[data-testid="product-in-cart"]').textContent.trim(),
            ]))""",
        )

    # Drawer

    def open_drawer(self) -> Locator:
        self.by("cart-button").click()
        drawer = self.by("cart-drawer")
        expect(drawer).to_be_visible()
        self.wait_animations()  # it slides in
        return drawer

    def close_drawer(self) -> None:
        self.by("cart-close").click()
        expect(self.by("cart-drawer")).to_be_hidden()

    def line(self, product_id: str) -> Locator:
        return self.page.locator(f'[data-testid="cart-line"][data-product-id="{product_id}"]')

    def drawer_lines(self) -> dict[str, tuple[int, str]]:
        """productId -> (quantity, line total text), as the drawer shows them."""
        return {
            line["id"]: (int(line["quantity"]), line["total"])
            for line in self.page.eval_on_selector_all(
                '[data-testid="cart-line"]',
                """(lines) => lines.map((line) => ({
                    id: line.dataset.productId,
                    quantity: line.querySelector('[data-testid="qty-input"]').value,
                    total: line.querySelector('[data-testid="cart-line-total"]').textContent.trim(),
                }))""",
            )
        }

    # Account

    def sign_in(self, email: str, password: str = PASSWORD, *, from_header: bool = True) -> None:
        """Signs in through the form (opened from the header unless already on it); waits for the
        merged cart."""
        if from_header:
            self.by("signin-link").click()
        expect(self.by("signin-form")).to_be_visible()
        self.by("signin-email").fill(email)
        self.by("signin-password").fill(password)
        self.by("signin-submit").click()
        expect(self.by("user-email")).to_have_text(email)
        self.wait_cart_loaded()

    def sign_out(self) -> None:
        self.by("signout-button").click()
        expect(self.by("signin-link")).to_be_visible()
        self.wait_cart_loaded()

    # Errors

    def expect_error(self, message: str, *, app_wide: bool = False) -> Locator:
        """The one error banner on the page shows `message` (`app_wide`: in the fixed area that holds
        the app's errors, rather than next to a form)."""
        banner = (self.by("messages") if app_wide else self.page).get_by_test_id("error-banner")
        expect(banner).to_have_count(1)
        expect(banner).to_have_attribute("role", "alert")
        expect(banner.get_by_test_id("error-message")).to_have_text(message)
        return banner

    def expect_no_error(self) -> None:
        expect(self.by("error-banner")).to_have_count(0)


def wait_for_path(page: Page, path: str) -> dict[str, str]:
    """Waits until the page is at `path`; returns its query parameters."""
    page.wait_for_url(lambda url: urlsplit(url).path == path)
    return dict(parse_qsl(urlsplit(page.url).query))


def screenshot(page: Page, name: str, **options: Any) -> Path:
    """Saves test-results/screenshots/<name>.png, and docs/screenshots/<name>.png when asked to."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    path = SCREENSHOTS / f"{name}.png"
    page.screenshot(path=str(path), animations="disabled", caret="hide", **options)
    if os.environ.get("UPDATE_SCREENSHOTS") == "1":
        DOCUMENTED_SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(path, DOCUMENTED_SCREENSHOTS / path.name)
    return path
