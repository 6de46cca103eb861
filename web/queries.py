"""Moved to the core: the read models and actions now live in ocop_workflow.services.catalog
(lists, counts, the product page, product and producer edits) and ocop_workflow.services.accounts
(administration of accounts). This module only re-exports them for old imports; import from the core.
"""

from __future__ import annotations

from ocop_workflow.folding import fold
from ocop_workflow.services.accounts import admin_organisations as admin_orgs
from ocop_workflow.services.accounts import get_user_for_admin, is_admin, set_user_active, users_for_admin
from ocop_workflow.services.catalog import (
    EDIT_ROLES,
    Page,
    ProductFilter,
    creatable_communes,
    list_products,
    organisations_in_scope,
    producers_for_actor,
    state_counts,
    update_producer,
    update_product,
    waiting_keys,
)
from ocop_workflow.services.catalog import get_visible_organisation as visible_org

__all__ = [
    "EDIT_ROLES", "Page", "ProductFilter", "admin_orgs", "creatable_communes", "fold", "get_user_for_admin",
    "is_admin", "list_products", "organisations_in_scope", "producers_for_actor", "set_user_active",
    "state_counts", "update_producer", "update_product", "users_for_admin", "visible_org", "waiting_keys",
]
