"""Wiring a Zendesk account to this service: `python -m app install-zendesk`.

`install.py`: the pure planner (`plan_install`), the applier (`apply_plan`),
`install` (read, plan, apply) and the command's helpers. docs/zendesk-setup.md
walks through connecting a real account.
"""

from app.zendesk.setup.install import (
    DEFAULT_WEBHOOK_NAME,
    NEW_WEBHOOK,
    TRIGGER_BODY,
    WEBHOOK_PATH,
    Change,
    FieldChange,
    InstallError,
    InstallNames,
    InstallResult,
    InstallTarget,
    apply_plan,
    desired_trigger,
    desired_webhook,
    get_me,
    install,
    load_install_settings,
    plan_install,
    render_plan,
    render_secret,
    run_install,
    trigger_body,
    trigger_conditions,
    webhook_endpoint,
)

__all__ = [
    "DEFAULT_WEBHOOK_NAME",
    "NEW_WEBHOOK",
    "TRIGGER_BODY",
    "WEBHOOK_PATH",
    "Change",
    "FieldChange",
    "InstallError",
    "InstallNames",
    "InstallResult",
    "InstallTarget",
    "apply_plan",
    "desired_trigger",
    "desired_webhook",
    "get_me",
    "install",
    "load_install_settings",
    "plan_install",
    "render_plan",
    "render_secret",
    "run_install",
    "trigger_body",
    "trigger_conditions",
    "webhook_endpoint",
]
