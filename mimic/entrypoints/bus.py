"""Bus handlers: contract in, use case, contract out. Nothing else happens here."""

from __future__ import annotations

from contracts.mimic.models import (
    CreateIntegrationV1,
    DisableIntegrationV1,
    ExecuteActionV1,
    GetIntegrationV1,
    GetNotificationV1,
    GetTemplateV1,
    IntegrationListV1,
    IntegrationV1,
    ListIntegrationsV1,
    ListNotificationsV1,
    ListTemplatesV1,
    NotificationListV1,
    NotificationV1,
    PreviewTemplateV1,
    RenderedV1,
    SaveTemplateV1,
    SendNotificationV1,
    TemplateListV1,
    TemplateV1,
)
from contracts.mimic.streams import ACTION_CONSUMER, SEND_CONSUMER
from contracts.mimic.subjects import (
    INTEGRATION_CREATE,
    INTEGRATION_DISABLE,
    INTEGRATION_GET,
    INTEGRATION_LIST,
    NOTIFICATION_GET,
    NOTIFICATION_LIST,
    TEMPLATE_GET,
    TEMPLATE_LIST,
    TEMPLATE_PREVIEW,
    TEMPLATE_SAVE,
)
from mimic.components import Components
from mimic.service.context import require_org
from mimic.service.read_notifications import get_notification, list_notifications
from mimic.service.read_templates import get_template, list_templates, preview_template
from mimic.service.save_template import save_template
from shared.bus import Delivery, Request, Router


def register(router: Router, mimic: Components) -> None:
    @router.consumer(SEND_CONSUMER)
    async def send(command: SendNotificationV1, delivery: Delivery) -> None:
        await mimic.send(command, delivery)

    @router.rpc(NOTIFICATION_GET)
    async def notification_get(query: GetNotificationV1, request: Request) -> NotificationV1:
        return await get_notification(mimic.db, require_org(request.meta.org_id), query)

    @router.rpc(NOTIFICATION_LIST)
    async def notification_list(query: ListNotificationsV1, request: Request) -> NotificationListV1:
        return await list_notifications(mimic.db, require_org(request.meta.org_id), query)

    @router.rpc(TEMPLATE_SAVE)
    async def template_save(command: SaveTemplateV1, request: Request) -> TemplateV1:
        return await save_template(mimic.db, require_org(request.meta.org_id), command)

    @router.rpc(TEMPLATE_GET)
    async def template_get(query: GetTemplateV1, request: Request) -> TemplateV1:
        org_id = require_org(request.meta.org_id)
        return await get_template(mimic.db, mimic.catalog, org_id, query)

    @router.rpc(TEMPLATE_LIST)
    async def template_list(query: ListTemplatesV1, request: Request) -> TemplateListV1:
        return await list_templates(mimic.db, require_org(request.meta.org_id), query)

    @router.rpc(TEMPLATE_PREVIEW)
    async def template_preview(query: PreviewTemplateV1, request: Request) -> RenderedV1:
        org_id = require_org(request.meta.org_id)
        return await preview_template(mimic.db, mimic.catalog, org_id, query)

    @router.consumer(ACTION_CONSUMER)
    async def execute(command: ExecuteActionV1, delivery: Delivery) -> None:
        await mimic.execute(command, delivery)

    @router.rpc(INTEGRATION_CREATE)
    async def integration_create(command: CreateIntegrationV1, request: Request) -> IntegrationV1:
        return await mimic.integrations.create(require_org(request.meta.org_id), command)

    @router.rpc(INTEGRATION_GET)
    async def integration_get(query: GetIntegrationV1, request: Request) -> IntegrationV1:
        return await mimic.integrations.get(require_org(request.meta.org_id), query)

    @router.rpc(INTEGRATION_LIST)
    async def integration_list(query: ListIntegrationsV1, request: Request) -> IntegrationListV1:
        return await mimic.integrations.list(require_org(request.meta.org_id), query)

    @router.rpc(INTEGRATION_DISABLE)
    async def integration_disable(command: DisableIntegrationV1, request: Request) -> IntegrationV1:
        return await mimic.integrations.disable(require_org(request.meta.org_id), command)
