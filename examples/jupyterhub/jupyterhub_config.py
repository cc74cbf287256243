"""JupyterHub with collaboration accounts, for jupyterlab-collab-exec.

A collaboration account is a Hub user that nobody logs in as. Its single-user server holds a
project's notebooks; the project's members open it at `/user/<account>/` with their own
identity, so every cell they run is recorded (`submitted_by`, `answered_by`) and shown ("Run
by") under their own name, never under the account's. This follows JupyterHub's
"collaboration users" tutorial.

The single-user servers need this environment: jupyterlab, jupyter-collaboration and
jupyterlab-collab-exec.

Try it on one machine: `DEMO_PASSWORD=... jupyterhub -f jupyterhub_config.py`, then log in as
alice or bob with that password and open http://127.0.0.1:8000/user/collab/. The tests of the
project start this very file, with their own ports and folders (see docs/deployment.md).
"""

import os

from jupyterhub.authenticators.shared import SharedPasswordAuthenticator
from traitlets import Dict

c = get_config()  # type: ignore[name-defined]  # noqa: F821

# Each project: its members and its collaboration account.
PROJECTS = {
    "project": {"members": ["alice", "bob"], "account": "collab"},
}

# The names that badges show. They reach the single-user server as the Hub's `user_info`,
# which the authenticator returns at login (JupyterHub 5.3 or later).
DISPLAY_NAMES = {
    "alice": "Alice Liddell",
    "bob": "Bob Cratchit",
    "carol": "Carol Danvers",
}


class DisplayNameAuthenticator(SharedPasswordAuthenticator):
    """A shared password, for trying the setup out; use your site's authenticator instead,
    and have it return `user_info` with a `display_name`."""

    display_names = Dict(config=True, help="Display names by user name.")

    async def authenticate(self, handler, data):  # type: ignore[no-untyped-def]
        authenticated = await super().authenticate(handler, data)
        if authenticated is None:
            return None
        name = authenticated["name"]
        # The Hub keeps group membership as configured below, not as this returns.
        authenticated.pop("groups", None)
        authenticated["user_info"] = {"display_name": self.display_names.get(name, name)}
        return authenticated


c.JupyterHub.authenticator_class = DisplayNameAuthenticator
c.DisplayNameAuthenticator.display_names = DISPLAY_NAMES
c.DisplayNameAuthenticator.user_password = os.environ.get("DEMO_PASSWORD", "")
# Only real people log in; the collaboration accounts never do.
c.Authenticator.allowed_users = set(DISPLAY_NAMES)

# The groups and the roles of the tutorial: members may open, start and stop the account's
# server; the accounts are in `collaborative`.
c.JupyterHub.load_groups = {"collaborative": {"users": []}}
c.JupyterHub.load_roles = []
for project, info in PROJECTS.items():
    account = info["account"]
    c.JupyterHub.load_groups[project] = {"users": info["members"]}
    c.JupyterHub.load_groups["collaborative"]["users"].append(account)
    c.JupyterHub.load_roles.append(
        {
            "name": f"collab-access-{project}",
            "scopes": [
                f"access:servers!user={account}",
                f"admin:servers!user={account}",
                f"list:users!user={account}",
                "admin-ui",
            ],
            "groups": [project],
        }
    )


def collaborative_servers(spawner):  # type: ignore[no-untyped-def]
    """Only the accounts' servers are collaborative: jupyter-collaboration is on wherever it
    is installed, so the personal servers turn it off."""
    if "collaborative" not in {group.name for group in spawner.user.groups}:
        spawner.args.append("--YDocExtension.disable_rtc=True")


c.Spawner.pre_spawn_hook = collaborative_servers
