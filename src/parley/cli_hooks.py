"""``parley hook create|list|revoke``: the provider webhooks of an org.

The commands use the CLI's own error handling and database helpers, imported when a command
runs: ``parley.cli`` imports this module to register the commands.
"""

from __future__ import annotations

import os
import secrets
import sys
from enum import StrEnum
from typing import Annotated

import typer

from parley.accounts import service as accounts
from parley.config import Settings
from parley.db.instance import instance_secret
from parley.ingest import hooks
from parley.ingest.hooks import Scheme

hook_app = typer.Typer(help="Provider webhooks: Retell, Vapi, ElevenLabs and Twilio.", no_args_is_help=True)

SECRET_VARIABLE = "PARLEY_HOOK_SECRET"


class Provider(StrEnum):
    RETELL = "retell"
    VAPI = "vapi"
    ELEVENLABS = "elevenlabs"
    TWILIO = "twilio"


# Where each provider's secret comes from, and what to set on its side.
SETUP = {
    Provider.RETELL: "Secret: the Retell API key with the webhook badge. Paste the URL as the agent's "
    "or the account's webhook URL.",
    Provider.VAPI: "Paste the URL as the server URL. With --vapi-auth hmac (the default), add a custom "
    "credential: HMAC, algorithm sha256, signature header x-signature, timestamp header x-timestamp, "
    "payload {timestamp}.{body}, hex, with the secret; with --vapi-auth secret, set it as the server "
    "URL secret (x-vapi-secret).",
    Provider.ELEVENLABS: "Secret: the shared secret ElevenLabs shows when the post-call webhook is made. "
    "Paste the URL as the webhook URL with HMAC authentication.",
    Provider.TWILIO: "Secret: the account's Auth Token (or a webhook shared key's secret). Paste the URL "
    "as the number's messaging webhook, the call's status callback and the recording status callback; "
    "it must be exactly the URL Twilio calls, since Twilio signs the URL.",
}


def _secret(provider: Provider) -> tuple[str, bool]:
    """The secret and whether Parley made it: PARLEY_HOOK_SECRET, a prompt, or for Vapi (where
    the secret is ours to choose) a new random one."""
    from parley.cli import fail

    given = os.environ.get(SECRET_VARIABLE)
    if given:
        return given, False
    if provider is Provider.VAPI:
        return secrets.token_urlsafe(32), True
    if not sys.stdin.isatty():
        fail(f"set {SECRET_VARIABLE} or run in a terminal to be asked for the {provider.value} secret")
    return typer.prompt(f"{provider.value} secret", hide_input=True), False


@hook_app.command("create")
def hook_create(
    org: Annotated[str, typer.Option(help="Slug of the org the deliveries belong to.")],
    provider: Annotated[Provider, typer.Option(help="Who sends the webhooks.")],
    vapi_auth: Annotated[
        Scheme,
        typer.Option(
            help="Vapi only: hmac (signed, secret kept encrypted) or secret (x-vapi-secret, kept hashed)."
        ),
    ] = Scheme.HMAC,
    base_url: Annotated[
        str | None, typer.Option(help="Public base URL of this Parley; default PARLEY_PUBLIC_URL.")
    ] = None,
) -> None:
    """Store a provider's secret and print the URL to paste into its dashboard (stdout: the URL,
    then the secret when Parley made it). The secret comes from PARLEY_HOOK_SECRET or a prompt."""
    from parley.cli import cli_errors, database, err

    settings = Settings()
    scheme = vapi_auth if provider is Provider.VAPI else Scheme.HMAC
    secret, generated = _secret(provider)
    with cli_errors(settings), database(settings) as engine:
        key = settings.secret_key or instance_secret(engine)
        with engine.begin() as conn:
            target = accounts.get_org(conn, org)
            hook_id = hooks.create_hook(conn, target.id, provider.value, secret, key, scheme)
    base = base_url or settings.public_url
    if not base:
        err.print("PARLEY_PUBLIC_URL is not set: put this Parley's public address before the path.")
    err.print(f"Created {provider.value} hook {hook_id} for {org}. {SETUP[provider]}", highlight=False)
    typer.echo(hooks.hook_url(base, provider.value, hook_id))
    if generated:
        typer.echo(secret)


@hook_app.command("list")
def hook_list(org: Annotated[str | None, typer.Option(help="Only this org's hooks.")] = None) -> None:
    """List hooks: id, org, provider, scheme, created, revoked (or active), URL; tab-separated."""
    from parley.cli import cli_errors, database

    settings = Settings()
    with cli_errors(settings), database(settings) as engine, engine.begin() as conn:
        org_id = accounts.get_org(conn, org).id if org is not None else None
        found = hooks.list_hooks(conn, org_id)
    for hook in found:
        revoked = hook.revoked_at.isoformat() if hook.revoked_at else "active"
        url = hooks.hook_url(settings.public_url, hook.provider, hook.id)
        fields = (
            hook.id,
            hook.org_slug,
            hook.provider,
            hook.scheme.value,
            hook.created_at.isoformat(),
            revoked,
            url,
        )
        typer.echo("\t".join(fields))


@hook_app.command("revoke")
def hook_revoke(hook_id: str) -> None:
    """Revoke a hook: its URL answers 404 from now on."""
    from parley.cli import cli_errors, database, err

    settings = Settings()
    with cli_errors(settings), database(settings) as engine, engine.begin() as conn:
        hooks.revoke_hook(conn, hook_id)
    err.print(f"Revoked {hook_id}.")
