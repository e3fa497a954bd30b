"""Bus handlers: a request's contract in, its use case, the reply contract out.

Validation happened before a handler runs (the bus decodes into the subject's model, strictly in
tests); errors raised by a use case become `{code, message}` replies with inkpass's stable codes.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

from contracts.envelope import Meta
from contracts.inkpass import subjects as s
from contracts.model import ContractModel
from contracts.subject import Subject
from inkpass.service.accept_invitation import accept_invitation
from inkpass.service.change_password import change_password
from inkpass.service.check_authz import check_authz
from inkpass.service.complete_mfa import complete_mfa
from inkpass.service.confirm_totp import confirm_totp
from inkpass.service.create_api_key import create_api_key
from inkpass.service.create_org import create_org
from inkpass.service.delete_account import delete_account
from inkpass.service.delete_policy import delete_policy
from inkpass.service.deps import Deps
from inkpass.service.disable_totp import disable_totp
from inkpass.service.disable_user import disable_user
from inkpass.service.enable_user import enable_user
from inkpass.service.enroll_totp import enroll_totp
from inkpass.service.finish_oauth import finish_oauth
from inkpass.service.get_profile import get_profile
from inkpass.service.invite_member import invite_member
from inkpass.service.list_api_keys import list_api_keys
from inkpass.service.list_audit import list_audit
from inkpass.service.list_members import list_members
from inkpass.service.list_orgs import list_orgs
from inkpass.service.list_policies import list_policies
from inkpass.service.login import login
from inkpass.service.login_with_otp import login_with_otp
from inkpass.service.logout import logout
from inkpass.service.org_settings import get_org_settings, update_org_settings
from inkpass.service.put_policy import put_policy
from inkpass.service.refresh_session import refresh_session
from inkpass.service.regenerate_backup_codes import regenerate_backup_codes
from inkpass.service.register_user import register_user
from inkpass.service.remove_member import remove_member
from inkpass.service.request_otp import request_otp
from inkpass.service.reset_password import reset_password
from inkpass.service.revoke_all_sessions import revoke_all_sessions
from inkpass.service.revoke_api_key import revoke_api_key
from inkpass.service.set_member_attributes import set_member_attributes
from inkpass.service.set_member_role import set_member_role
from inkpass.service.start_oauth import start_oauth
from inkpass.service.switch_org import switch_org
from inkpass.service.update_profile import update_profile
from inkpass.service.verify_api_key import verify_api_key
from inkpass.service.verify_email import verify_email
from inkpass.service.verify_token import verify_token
from shared.bus import Request, Router

P = TypeVar("P", bound=ContractModel)
R = TypeVar("R", bound=ContractModel)

UseCase = Callable[[Deps, P], Awaitable[R]]
OperatorUseCase = Callable[[Deps, P, Meta], Awaitable[R]]

# Sign-ins hash passwords (argon2 holds its slots); the hot read paths get wide concurrency.
_ARGON2_BOUND = 32

_USE_CASES: list[tuple[Subject[Any, Any], UseCase[Any, Any], int]] = [
    (s.REGISTER, register_user, _ARGON2_BOUND),
    (s.REQUEST_OTP, request_otp, 64),
    (s.VERIFY_EMAIL, verify_email, 64),
    (s.LOGIN, login, _ARGON2_BOUND),
    (s.LOGIN_WITH_OTP, login_with_otp, 64),
    (s.COMPLETE_MFA, complete_mfa, 64),
    (s.REFRESH, refresh_session, 256),
    (s.LOGOUT, logout, 256),
    (s.REVOKE_ALL, revoke_all_sessions, 64),
    (s.SWITCH_ORG, switch_org, 64),
    (s.VERIFY_TOKEN, verify_token, 256),
    (s.GET_PROFILE, get_profile, 64),
    (s.UPDATE_PROFILE, update_profile, 64),
    (s.CHANGE_PASSWORD, change_password, _ARGON2_BOUND),
    (s.RESET_PASSWORD, reset_password, _ARGON2_BOUND),
    (s.DELETE_ACCOUNT, delete_account, _ARGON2_BOUND),
    (s.CREATE_ORG, create_org, 64),
    (s.LIST_ORGS, list_orgs, 64),
    (s.GET_ORG_SETTINGS, get_org_settings, 64),
    (s.UPDATE_ORG_SETTINGS, update_org_settings, 64),
    (s.INVITE_MEMBER, invite_member, 64),
    (s.ACCEPT_INVITATION, accept_invitation, 64),
    (s.LIST_MEMBERS, list_members, 64),
    (s.SET_MEMBER_ROLE, set_member_role, 64),
    (s.SET_MEMBER_ATTRIBUTES, set_member_attributes, 64),
    (s.REMOVE_MEMBER, remove_member, 64),
    (s.CREATE_API_KEY, create_api_key, 64),
    (s.REVOKE_API_KEY, revoke_api_key, 64),
    (s.LIST_API_KEYS, list_api_keys, 64),
    (s.VERIFY_API_KEY, verify_api_key, 256),
    (s.ENROLL_TOTP, enroll_totp, 64),
    (s.CONFIRM_TOTP, confirm_totp, 64),
    (s.DISABLE_TOTP, disable_totp, _ARGON2_BOUND),
    (s.REGENERATE_BACKUP_CODES, regenerate_backup_codes, 64),
    (s.START_OAUTH, start_oauth, 64),
    (s.FINISH_OAUTH, finish_oauth, 64),
    (s.AUTHZ_CHECK, check_authz, 256),
    (s.PUT_POLICY, put_policy, 64),
    (s.DELETE_POLICY, delete_policy, 64),
    (s.LIST_POLICIES, list_policies, 64),
    (s.LIST_AUDIT, list_audit, 64),
]

_OPERATOR_USE_CASES: list[tuple[Subject[Any, Any], OperatorUseCase[Any, Any]]] = [
    (s.DISABLE_USER, disable_user),
    (s.ENABLE_USER, enable_user),
]


def _serve(deps: Deps, use_case: UseCase[P, R]) -> Callable[[P, Request], Awaitable[R]]:
    async def handle(payload: P, _: Request) -> R:
        return await use_case(deps, payload)

    handle.__name__ = use_case.__name__
    return handle


def _serve_operator(
    deps: Deps, use_case: OperatorUseCase[P, R]
) -> Callable[[P, Request], Awaitable[R]]:
    async def handle(payload: P, request: Request) -> R:
        return await use_case(deps, payload, request.meta)

    handle.__name__ = use_case.__name__
    return handle


def register(router: Router, deps: Deps) -> None:
    for subject, use_case, concurrency in _USE_CASES:
        router.rpc(subject, concurrency=concurrency)(_serve(deps, use_case))
    for subject, operator_case in _OPERATOR_USE_CASES:
        router.rpc(subject, concurrency=16)(_serve_operator(deps, operator_case))
