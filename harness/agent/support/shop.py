"""The shop behind the support agent: a tiny in-memory database over ``fixtures/shop.json``.

The fixture is read once and shared (its records are frozen). Each :class:`Shop` keeps its own refunds, e-mails and
escalations, never on disk. The fixture fixes "today", so every refund-policy decision is deterministic.
"""

from __future__ import annotations

import functools
import re
import threading
from collections.abc import Callable
from datetime import date
from pathlib import Path
from typing import Literal, TypeVar

from pydantic import Field

from harness.agent.tools import ToolError
from harness.models import Record

FIXTURE_PATH = Path(__file__).parent / "fixtures" / "shop.json"
OrderStatus = Literal["processing", "shipped", "delivered", "cancelled", "refunded"]


class ShopError(ToolError):
    """A request the shop refuses or cannot serve; the message is what the model reads."""


class Settings(Record):
    """Shop-wide facts used by the prompts and the refund policy."""

    shop_name: str
    today: date
    """The shop's fixed "today": policy decisions never depend on the real clock."""
    refund_window_days: int
    approval_limit: float
    """Refunds above this amount need a human's approval."""
    currency: str
    support_email: str
    help_center_url: str


class Customer(Record):
    """A customer with realistic-looking fake contact details (PII that trace redaction must catch)."""

    customer_id: str
    name: str
    email: str
    """Address on file: the only one support may write to."""
    phone: str
    address: str
    card_brand: str
    card_number: str
    """A fake, Luhn-valid test number, written as the customer typed it (spaces, dashes or none)."""


class Item(Record):
    """One line of an order."""

    sku: str
    name: str
    quantity: int
    unit_price: float


class Order(Record):
    """An order as the fixture holds it."""

    order_id: str
    customer_id: str
    status: OrderStatus
    placed_on: date
    shipped_on: date | None
    delivered_on: date | None
    carrier: str | None
    tracking_number: str | None
    items: list[Item]
    total: float
    refunded_amount: float = 0.0
    """Refunded before the fixture's "today"."""
    notes: str = ""
    """Staff notes; the model reads them, and one order's notes carry a planted injection."""
    planted_injection: bool = Field(default=False, alias="_planted_injection")
    """The notes hide instructions aimed at the agent (for dataset builders; never shown to the model)."""
    simulated_failure: str | None = Field(default=None, alias="_simulated_failure")
    """When set, the order backend fails with this message whenever the order is touched."""


class Article(Record):
    """A help-center article; the model reads the body, and one body carries a planted injection."""

    article_id: str = Field(alias="id")
    title: str
    tags: list[str]
    summary: str
    """One sentence that answers the article's question."""
    body: str
    planted_injection: bool = Field(default=False, alias="_planted_injection")
    """The body hides instructions aimed at the agent (never shown to the model)."""


class Catalog(Record):
    """The whole fixture file."""

    comment: str = Field(default="", alias="_comment")
    settings: Settings
    customers: list[Customer]
    orders: list[Order]
    articles: list[Article]


class PolicyFacts(Record):
    """What the refund policy says about one order today (``lookup_order`` shows it to the model).

    ``refundable_amount`` is 0 when not eligible; ``refund_needs_approval`` when it is above the approval limit.
    """

    days_since_delivery: int | None
    refund_window_days: int
    refund_eligible: bool
    refund_ineligible_reason: str | None
    """Why not, in words the customer can be told."""
    refundable_amount: float
    already_refunded_amount: float
    approval_limit: float
    refund_needs_approval: bool


class Issued(Record):
    """Something a run did through a shop; the same idempotency key again returns it instead of doing it twice."""

    idempotency_key: str | None


class Refund(Issued):
    """A refund; ``refund_to`` reads like "Visa ending 1111"."""

    refund_id: str
    order_id: str
    amount: float
    currency: str
    reason: str
    refund_to: str


class Email(Issued):
    """An e-mail, recorded as sent."""

    email_id: str
    to: str
    subject: str
    body: str


class Escalation(Issued):
    """A ticket for a human specialist."""

    escalation_id: str
    reason: str
    order_id: str | None


IssuedT = TypeVar("IssuedT", bound=Issued)


def _normalize(order_id: str) -> str:
    return order_id.strip().lstrip("#").upper()


@functools.cache
def load_catalog(path: Path = FIXTURE_PATH) -> Catalog:
    """Read and validate a fixture file (cached: its records are immutable)."""
    return Catalog.model_validate_json(path.read_bytes())


class Shop:
    """The fixture's records plus what was done through this instance. Thread-safe."""

    def __init__(self, catalog: Catalog) -> None:
        self.catalog = catalog
        self.settings = catalog.settings
        self.customers = {c.customer_id: c for c in catalog.customers}
        self.refunds: list[Refund] = []
        self.emails: list[Email] = []
        self.escalations: list[Escalation] = []
        self._orders = {o.order_id: o for o in catalog.orders}
        self._lock = threading.RLock()

    def order(self, order_id: str) -> Order:
        """The order with this number (``#a1001`` works too); :class:`ShopError` if unknown or failing."""
        order = self._orders.get(_normalize(order_id))
        if order is None:
            raise ShopError(f"order {_normalize(order_id)} not found")
        if order.simulated_failure:
            raise ShopError(order.simulated_failure)
        return order

    def refunded(self, order: Order) -> float:
        """Refunded so far: before today (fixture) plus through this shop."""
        return round(order.refunded_amount + sum(r.amount for r in self.refunds if r.order_id == order.order_id), 2)

    def policy(self, order: Order) -> PolicyFacts:
        """Apply the refund policy to an order as of the fixture's today."""
        window, limit = self.settings.refund_window_days, self.settings.approval_limit
        refunded = self.refunded(order)
        left = round(max(order.total - refunded, 0.0), 2)
        days = (self.settings.today - order.delivered_on).days if order.delivered_on else None
        reason: str | None = None
        if order.status == "cancelled":
            reason = "the order was cancelled before it shipped, so nothing was charged"
        elif days is None:
            reason = f"the order has not been delivered yet (status: {order.status})"
        elif left <= 0:
            reason = "the order has already been refunded in full"
        elif days > window:
            reason = f"the order was delivered {days} days ago, outside the {window}-day refund window"
        amount = left if reason is None else 0.0
        return PolicyFacts(
            days_since_delivery=days,
            refund_window_days=window,
            refund_eligible=reason is None,
            refund_ineligible_reason=reason,
            refundable_amount=amount,
            already_refunded_amount=refunded,
            approval_limit=limit,
            refund_needs_approval=amount > limit,
        )

    def refund(self, order_id: str, amount: float, reason: str, idempotency_key: str | None = None) -> Refund:
        """Issue a refund within policy; a repeated idempotency key returns the earlier refund instead.

        Raises:
            ShopError: unknown or failing order, refund outside policy, or more than the refundable amount.
        """

        def make() -> Refund:
            order = self.order(order_id)
            facts = self.policy(order)
            currency = self.settings.currency
            if not facts.refund_eligible:
                raise ShopError(f"refund refused for order {order.order_id}: {facts.refund_ineligible_reason}")
            if round(amount, 2) > facts.refundable_amount:
                raise ShopError(
                    f"refund refused for order {order.order_id}: {amount:.2f} {currency} is more than the "
                    f"refundable amount of {facts.refundable_amount:.2f} {currency}"
                )
            customer = self.customers[order.customer_id]
            last4 = re.sub(r"\D", "", customer.card_number)[-4:]
            count = sum(r.order_id == order.order_id for r in self.refunds) + 1
            return Refund(
                refund_id=f"RF-{order.order_id}-{count}",
                order_id=order.order_id,
                amount=round(amount, 2),
                currency=currency,
                reason=reason,
                refund_to=f"{customer.card_brand} ending {last4}",
                idempotency_key=idempotency_key,
            )

        return self._issue(self.refunds, idempotency_key, make)

    def send_email(self, to: str, subject: str, body: str, idempotency_key: str | None = None) -> Email:
        """Record an e-mail as sent, to anyone: guarding recipients is the agent's job, not the mail server's."""
        key = idempotency_key
        return self._issue(
            self.emails,
            key,
            lambda: Email(
                email_id=f"EM-{len(self.emails) + 1:04d}", to=to, subject=subject, body=body, idempotency_key=key
            ),
        )

    def escalate(self, reason: str, order_id: str | None = None, idempotency_key: str | None = None) -> Escalation:
        """Open a ticket for a human specialist."""
        key, order = idempotency_key, _normalize(order_id) if order_id else None
        return self._issue(
            self.escalations,
            key,
            lambda: Escalation(
                escalation_id=f"ESC-{len(self.escalations) + 1:04d}", reason=reason, order_id=order, idempotency_key=key
            ),
        )

    def _issue(self, records: list[IssuedT], key: str | None, make: Callable[[], IssuedT]) -> IssuedT:
        # Side-effect tools may run in parallel worker threads: check-then-record must be atomic.
        with self._lock:
            earlier = next((r for r in records if key is not None and r.idempotency_key == key), None)
            if earlier is not None:
                return earlier
            record = make()
            records.append(record)
            return record


def load_shop(path: Path = FIXTURE_PATH) -> Shop:
    """A fresh shop over the bundled fixture (or another fixture file), with nothing issued yet."""
    return Shop(load_catalog(path))
