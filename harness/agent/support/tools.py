"""The support agent's tools: look up orders, search the help center, refund, e-mail, hand off to a human.

Tools find their :class:`~harness.agent.support.shop.Shop` through the run: by default every agent run gets a fresh
shop (keyed by ``ToolContext.run_id``), so a refund in one run never makes an order "already refunded" in the next.
What the model reads is built here: plain dicts rendered as JSON, with the customer's contact and card details in
them (trace redaction must catch those) and never the fixture's ``_planted_injection`` flags.
"""

from __future__ import annotations

import re
import threading
from collections import OrderedDict
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from harness.agent.support.shop import Article, Order, Shop, load_catalog, load_shop
from harness.agent.tools import Tool, ToolContext, tool

_SETTINGS = load_catalog().settings
APPROVAL_LIMIT = _SETTINGS.approval_limit
"""Refunds above this amount are gated by the runtime's approval policy."""

PROMPT_VARIABLES: dict[str, str] = {
    "shop_name": _SETTINGS.shop_name,
    "today": _SETTINGS.today.isoformat(),
    "refund_window_days": str(_SETTINGS.refund_window_days),
    "approval_limit": f"{_SETTINGS.approval_limit:.2f}",
    "currency": _SETTINGS.currency,
    "support_email": _SETTINGS.support_email,
    "help_center_url": _SETTINGS.help_center_url,
}
"""Variables of the support prompt templates (``prompts/support/<version>.md``), from the fixture's settings."""


class LookupOrderArgs(BaseModel):
    """Arguments of lookup_order."""

    model_config = ConfigDict(extra="forbid")
    order_id: str = Field(min_length=1, max_length=32, description="The order number, e.g. A1001.")


class SearchKbArgs(BaseModel):
    """Arguments of search_kb."""

    model_config = ConfigDict(extra="forbid")
    query: str = Field(
        min_length=1,
        max_length=500,
        description="What to look for, e.g. 'return policy' or 'how long do refunds take'.",
    )


class IssueRefundArgs(BaseModel):
    """Arguments of issue_refund."""

    model_config = ConfigDict(extra="forbid")
    order_id: str = Field(min_length=1, max_length=32, description="The order to refund, e.g. A1001.")
    amount: float = Field(
        gt=0, description="Amount to refund in the order's currency; at most the refundable_amount from lookup_order."
    )
    reason: str = Field(min_length=3, max_length=500, description="Why the refund is issued, in one sentence.")


class SendEmailArgs(BaseModel):
    """Arguments of send_email."""

    model_config = ConfigDict(extra="forbid")
    to: str = Field(pattern=r"^[^@\s]+@[^@\s]+\.[^@\s]+$", max_length=254, description="Recipient's e-mail address.")
    subject: str = Field(min_length=1, max_length=200, description="Subject line.")
    body: str = Field(min_length=1, max_length=20_000, description="Plain-text body.")


class EscalateArgs(BaseModel):
    """Arguments of escalate_to_human."""

    model_config = ConfigDict(extra="forbid")
    reason: str = Field(
        min_length=3, max_length=1000, description="Why a human must take over, in one or two sentences."
    )
    order_id: str | None = Field(default=None, max_length=32, description="The order concerned, if any.")


class _RunShops:
    """A fresh shop per agent run, kept for the most recent runs so that tests and tools can look at them."""

    def __init__(self, capacity: int = 1024) -> None:
        self._shops: OrderedDict[str, Shop] = OrderedDict()
        self._capacity = capacity
        # Sync tools of concurrent runs execute in worker threads.
        self._lock = threading.Lock()

    def get(self, run_id: str) -> Shop:
        with self._lock:
            shop = self._shops.pop(run_id, None) or load_shop()
            self._shops[run_id] = shop
            while len(self._shops) > self._capacity:
                self._shops.popitem(last=False)
            return shop


_RUN_SHOPS = _RunShops()


def shop_for_run(run_id: str) -> Shop:
    """The shop that :data:`SUPPORT_TOOLS` used in a run: what it refunded, e-mailed and escalated.

    A run the registry does not know (or has forgotten, after 1024 newer runs) gets a fresh shop.
    """
    return _RUN_SHOPS.get(run_id)


def _status_detail(shop: Shop, order: Order, status: str) -> str:
    """One sentence for the customer; no double quotes, so scripted models can quote it from the JSON text."""
    currency, refunded = shop.settings.currency, shop.refunded(order)
    if status == "processing":
        return "It is being prepared and has not shipped yet; orders ship within 1 to 2 business days."
    if status == "shipped":
        return (
            f"It shipped on {order.shipped_on} with {order.carrier} (tracking number {order.tracking_number}) "
            "and should arrive within 3 to 5 business days of dispatch."
        )
    if status == "cancelled":
        return "It was cancelled before dispatch, so nothing was charged."
    if status == "refunded":
        return f"It was delivered on {order.delivered_on} and has been refunded in full ({refunded:.2f} {currency})."
    partly = f"; {refunded:.2f} {currency} of it has been refunded" if refunded else ""
    return f"It was delivered on {order.delivered_on}{partly}."


def order_view(shop: Shop, order: Order) -> dict[str, Any]:
    """What ``lookup_order`` returns. Key order matters: scripted models match on the JSON text."""
    customer = shop.customers[order.customer_id]
    status = "refunded" if order.status == "delivered" and shop.refunded(order) >= order.total else order.status
    return {
        "order_id": order.order_id,
        "status": status,
        "status_detail": _status_detail(shop, order, status),
        "placed_on": order.placed_on.isoformat(),
        "shipped_on": order.shipped_on.isoformat() if order.shipped_on else None,
        "delivered_on": order.delivered_on.isoformat() if order.delivered_on else None,
        "carrier": order.carrier,
        "tracking_number": order.tracking_number,
        "items": [item.model_dump() for item in order.items],
        "total": order.total,
        "currency": shop.settings.currency,
        "customer": {
            "customer_id": customer.customer_id,
            "name": customer.name,
            "email": customer.email,
            "phone": customer.phone,
            "shipping_address": customer.address,
            "order_history": [o.order_id for o in shop.catalog.orders if o.customer_id == customer.customer_id],
        },
        "payment": {"method": "card", "card_brand": customer.card_brand, "card_number": customer.card_number},
        "notes": order.notes,
        "policy": shop.policy(order).model_dump(mode="json"),
    }


def article_view(shop: Shop, article: Article) -> dict[str, Any]:
    """What ``search_kb`` returns for one article (the summary before the body, for scripted models)."""
    return {
        "id": article.article_id,
        "title": article.title,
        "summary": article.summary,
        "url": f"{shop.settings.help_center_url}/{article.article_id}",
        "body": article.body,
    }


_WORD = re.compile(r"[a-z0-9]+")
_STOP = frozenset(
    _WORD.findall(
        "a about an and any are as at be by can could did do does for from get got have how i if in is it its me my of "
        "on or our please the their there they this to was we what when where which why will with would you your"
    )
)


def _terms(text: str) -> set[str]:
    """Lower-case keywords with a crude plural stem, so that 'refunds' finds 'refund'."""
    words = (w for w in _WORD.findall(text.lower()) if w not in _STOP)
    return {w[:-1] if len(w) > 3 and w.endswith("s") and not w.endswith("ss") else w for w in words}


def rank_articles(articles: list[Article], query: str, limit: int = 3) -> list[Article]:
    """The best articles for a query: a keyword in the title counts 3, in the tags 2, in the text 1.

    Articles scoring under half the best score are left out, so a focused query gets one or two.
    """
    terms = _terms(query)
    scored: list[tuple[int, Article]] = []
    for article in articles:
        score = (
            3 * len(terms & _terms(article.title))
            + 2 * len(terms & _terms(" ".join(article.tags)))
            + len(terms & _terms(f"{article.summary} {article.body}"))
        )
        if score:
            scored.append((score, article))
    scored.sort(key=lambda pair: (-pair[0], pair[1].article_id))
    best = scored[0][0] if scored else 0
    return [article for score, article in scored[:limit] if 2 * score >= best]


def _refund_needs_approval(args: IssueRefundArgs) -> bool:
    return args.amount > APPROVAL_LIMIT


def make_support_tools(shop: Shop | None = None) -> list[Tool]:
    """The five support tools, bound to ``shop``, or (by default) to a fresh shop per run.

    Args:
        shop: one shop for every call (tests, notebooks); ``None`` keys a fresh shop on ``ToolContext.run_id``.
    """

    def resolve(ctx: ToolContext) -> Shop:
        return shop if shop is not None else _RUN_SHOPS.get(ctx.run_id)

    def lookup_order(args: LookupOrderArgs, ctx: ToolContext) -> dict[str, Any]:
        """Look up an order by its number. Returns its status, dates, tracking, items, the customer's contact and
        payment details, staff notes, and the refund-policy facts (refund_eligible, refund_ineligible_reason,
        refundable_amount, days_since_delivery)."""
        current = resolve(ctx)
        return order_view(current, current.order(args.order_id))

    def search_kb(args: SearchKbArgs, ctx: ToolContext) -> dict[str, Any]:
        """Search the help center (policies, shipping, returns, warranty, payments). Returns the 1 to 3 best articles
        with id, title, summary, url and body; an empty list when nothing matches."""
        current = resolve(ctx)
        return {
            "query": args.query,
            "articles": [article_view(current, a) for a in rank_articles(current.catalog.articles, args.query)],
        }

    def issue_refund(args: IssueRefundArgs, ctx: ToolContext) -> dict[str, Any]:
        """Refund a delivered order, fully or partly, to the original payment method. Refused when the order is not
        eligible or the amount is above its refundable_amount."""
        refund = resolve(ctx).refund(args.order_id, args.amount, args.reason, ctx.idempotency_key)
        view = refund.model_dump(exclude={"idempotency_key"})
        return {**view, "status": "issued", "expected_in": "5 to 10 business days"}

    def send_email(args: SendEmailArgs, ctx: ToolContext) -> dict[str, Any]:
        """Send an e-mail from the support desk."""
        email = resolve(ctx).send_email(args.to, args.subject, args.body, ctx.idempotency_key)
        return {"email_id": email.email_id, "status": "sent", "to": email.to, "subject": email.subject}

    def escalate_to_human(args: EscalateArgs, ctx: ToolContext) -> dict[str, Any]:
        """Hand the conversation to a human support specialist, with the reason. This ends your part of the
        conversation: the specialist answers the customer."""
        ticket = resolve(ctx).escalate(args.reason, args.order_id, ctx.idempotency_key)
        return {
            "escalation_id": ticket.escalation_id,
            "status": "queued",
            "order_id": ticket.order_id,
            "message": "A support specialist will reply to the customer by e-mail within 1 business day.",
        }

    return [
        tool(lookup_order),
        tool(search_kb),
        tool(issue_refund, side_effects=True, requires_approval=_refund_needs_approval),
        tool(send_email, side_effects=True),
        tool(escalate_to_human, side_effects=True, ends_run="escalated"),
    ]


SUPPORT_TOOLS: list[Tool] = make_support_tools()
"""The support tools, with a fresh shop per agent run."""
