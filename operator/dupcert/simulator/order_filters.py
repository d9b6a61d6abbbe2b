"""The `filters[...]` of `GET /order/certificate`: one predicate builder per documented filter."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import datetime

from dupcert.simulator.errors import invalid_request
from dupcert.simulator.listing import (
    date_matcher,
    flag_value,
    int_values,
    split_values,
    text_matcher,
)
from dupcert.simulator.model import SIMULATOR_USER, Order
from dupcert.simulator.state import SimulatorState

OrderPredicate = Callable[[Order], bool]
PredicateBuilder = Callable[[SimulatorState, str, str, datetime], OrderPredicate]

# The values DigiCert documents for `filters[origin]`.
ORIGINS = frozenset({"certcentral", "migrated"})


def _by_id(state: SimulatorState, name: str, value: str, now: datetime) -> OrderPredicate:
    ids = int_values(name, value)
    return lambda order: order.id in ids


def _by_status(state: SimulatorState, name: str, value: str, now: datetime) -> OrderPredicate:
    statuses = set(split_values(value))
    if "issued" in statuses:
        # CertCentral's `issued` filter also matches orders whose certificate expired.
        statuses.add("expired")
    return lambda order: state.order_status(order, now) in statuses


def _by_organization_id(
    state: SimulatorState, name: str, value: str, now: datetime
) -> OrderPredicate:
    ids = int_values(name, value)
    return lambda order: order.organization_id in ids


def _by_product_name_id(
    state: SimulatorState, name: str, value: str, now: datetime
) -> OrderPredicate:
    products = set(split_values(value))
    return lambda order: order.product_name_id in products


def _by_common_name(state: SimulatorState, name: str, value: str, now: datetime) -> OrderPredicate:
    match = text_matcher(value)
    return lambda order: match(state.primary_certificate(order).common_name)


def _by_domain_name(state: SimulatorState, name: str, value: str, now: datetime) -> OrderPredicate:
    match = text_matcher(value)
    return lambda order: any(match(n) for n in state.primary_certificate(order).dns_names)


def _by_search(state: SimulatorState, name: str, value: str, now: datetime) -> OrderPredicate:
    match = text_matcher(value)
    return lambda order: (
        match(state.primary_certificate(order).common_name) or match(SIMULATOR_USER.email)
    )


def _by_is_renewed(state: SimulatorState, name: str, value: str, now: datetime) -> OrderPredicate:
    flag = flag_value(name, value)
    return lambda order: order.is_renewed == flag


def _by_disable_renewal_notifications(
    state: SimulatorState, name: str, value: str, now: datetime
) -> OrderPredicate:
    flag = flag_value(name, value)
    return lambda order: order.disable_renewal_notifications == flag


def _by_date_created(state: SimulatorState, name: str, value: str, now: datetime) -> OrderPredicate:
    when = date_matcher(value)
    return lambda order: when(order.date_created)


def _by_valid_till(state: SimulatorState, name: str, value: str, now: datetime) -> OrderPredicate:
    when = date_matcher(value)
    return lambda order: when(state.primary_certificate(order).valid_till)


def _by_certificate_id(
    state: SimulatorState, name: str, value: str, now: datetime
) -> OrderPredicate:
    ids = int_values(name, value)
    return lambda order: order.primary_certificate_id in ids


def _by_serial_number(
    state: SimulatorState, name: str, value: str, now: datetime
) -> OrderPredicate:
    serials = {part.upper().lstrip("0") for part in split_values(value)}

    def has_serial(order: Order) -> bool:
        primary = state.primary_certificate(order)
        return primary.x509 is not None and f"{primary.x509.serial_number:X}" in serials

    return has_serial


def _by_user_id(state: SimulatorState, name: str, value: str, now: datetime) -> OrderPredicate:
    ids = int_values(name, value)
    return lambda order: SIMULATOR_USER.id in ids


def _by_email(state: SimulatorState, name: str, value: str, now: datetime) -> OrderPredicate:
    match = text_matcher(value)
    return lambda order: match(SIMULATOR_USER.email)


def _by_container_id(state: SimulatorState, name: str, value: str, now: datetime) -> OrderPredicate:
    ids = int_values(name, value)
    return lambda order: order.container_id in ids


def _by_origin(state: SimulatorState, name: str, value: str, now: datetime) -> OrderPredicate:
    origins = {part.lower() for part in split_values(value)}
    unknown = origins - ORIGINS
    if unknown or not origins:
        raise invalid_request(
            "invalid_filter", f"The filter {name} takes certcentral or migrated, not {value!r}."
        )
    # Every simulated order has the origin `certcentral`, because none was migrated.
    return lambda order: "certcentral" in origins


def _by_metadata_id(state: SimulatorState, name: str, value: str, now: datetime) -> OrderPredicate:
    int_values(name, value)
    # NOTE: the simulator models no custom order fields (metadata), so no order matches.
    return lambda order: False


_BUILDERS: Mapping[str, PredicateBuilder] = {
    "id": _by_id,
    "status": _by_status,
    "organization_id": _by_organization_id,
    "product_name_id": _by_product_name_id,
    "common_name": _by_common_name,
    "domain_name": _by_domain_name,
    "search": _by_search,
    "is_renewed": _by_is_renewed,
    "disable_renewal_notifications": _by_disable_renewal_notifications,
    "date_created": _by_date_created,
    "valid_till": _by_valid_till,
    "certificate_id": _by_certificate_id,
    "serial_number": _by_serial_number,
    "user_id": _by_user_id,
    "email": _by_email,
    "container_id": _by_container_id,
    "origin": _by_origin,
    "metadata_id": _by_metadata_id,
}

# Every filter DigiCert documents for the order list. Other names are rejected.
ORDER_FILTERS = tuple(_BUILDERS)


def order_predicates(
    state: SimulatorState, filters: Mapping[str, str], now: datetime
) -> list[OrderPredicate]:
    """Build one predicate per filter; an order is listed when all of them return True."""
    return [_BUILDERS[name](state, name, value, now) for name, value in filters.items()]
