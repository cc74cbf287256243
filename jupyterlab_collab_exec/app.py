"""The Jupyter Server extension: configuration and wiring."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from jupyter_server.extension.application import ExtensionApp
from jupyter_server.gateway.connections import GatewayWebSocketConnection
from traitlets import Bool, Float, Int, Unicode

from .common.loop_lag import LoopLagProbe, freeze_live_objects
from .doc.rooms import RoomAccess, parse_notebook_room_id
from .execution.service import ExecutionService, ExecutionSettings
from .history.recorder import HistorySettings, RunRecorder
from .history.store import Retention
from .trust.authority import TrustAuthority
from .trust.store import TrustStore
from .web.browser_proxy import GatewayBrowserConnection
from .web.handlers import route_handlers
from .web.server_events import EventForwarder

YDOC_EXTENSION = "jupyter_server_ydoc"
DB_NAME = ".jupyter_collab_exec.db"
BLOB_DIR_NAME = ".jupyter_collab_exec_blobs"
HISTORY_DB_NAME = ".jupyter_collab_exec_history.db"


class CollabExecApp(ExtensionApp):
    name = "jupyterlab_collab_exec"
    app_name = "Collaborative execution"
    description = "Durable, shared, server-side notebook execution for real-time collaboration."
    load_other_extensions = True

    flush_interval = Float(
        0.05,
        min=0.0,
        config=True,
        help="""Seconds between two writes of one cell's outputs into the shared document.
        Output that arrives in between is coalesced into one transaction.""",
    )

    retained_requests = Int(
        200,
        min=1,
        config=True,
        help="""How many finished requests `collab_exec.requests` keeps. The latest request of
        each cell is always kept.""",
    )

    max_output_bytes = Int(
        20 * 1024 * 1024,
        min=1024,
        config=True,
        help="""The most output one cell may hold, in bytes of text and JSON. Past it, the cell
        shows a notice that further output was dropped; a clear_output starts afresh.""",
    )

    checkpoint_interval = Float(
        5.0,
        min=0.0,
        config=True,
        help="""While work runs in a notebook, save it at least this often (seconds) if it
        changed. jupyter_server_ydoc postpones its own save while changes keep coming, and
        after a crash it reloads the cells from the file, so this bounds what a crash loses.
        0 disables it.""",
    )

    kernel_response_timeout = Float(
        60.0,
        min=0.1,
        config=True,
        help="""Seconds the server waits for a kernel that answers nothing: for its first
        answer when it connects, and for a request it was sent to start while the kernel
        answers no probe on its control channel either (a gateway that stopped, say). Past
        it, the request ends `interrupted` with the reason.""",
    )

    widget_snapshot_interval = Float(
        5.0,
        min=0.1,
        config=True,
        help="""While widgets change, the notebook metadata `widgets` (the saved widget state)
        is written at least this often (seconds). It is also written when a request ends and
        when the kernel goes idle or away, never on every update.""",
    )

    max_widget_bytes = Int(
        64 * 1024 * 1024,
        min=1024,
        config=True,
        help="""The most state of live widgets, in bytes of JSON and binary buffers, that the
        server keeps per kernel in the shared document. Past it, newer widgets and updates
        are not kept there, and `collab_widgets.notice` says so. The widgets of a kernel
        that is gone do not count: they stay only while a cell shows them.""",
    )

    widget_blob_threshold = Int(
        16 * 1024,
        min=0,
        config=True,
        help="""Binary values of widget models (an Image's PNG, a plot's arrays) of at least
        this many bytes are kept out of the shared document's history: the document names
        them by their SHA-256, and their bytes are kept in `widget_blob_dir`. The notebook
        file holds them in full.""",
    )

    widget_blob_dir = Unicode(
        "",
        config=True,
        help=f"""Where the binary widget values named by digest are kept, a folder per
        notebook. Empty: `{BLOB_DIR_NAME}` beside the YStore's database
        (`SQLiteYStore.db_path`).""",
    )

    db_path = Unicode(
        "",
        config=True,
        help=f"""The SQLite database where the server keeps digests of what it wrote into each
        notebook (cell outputs, widget models, saved widget state), which browsers check
        what they show against, so that trust survives a restart. Empty: `{DB_NAME}` beside
        the YStore's database (`SQLiteYStore.db_path`).""",
    )

    history_enabled = Bool(
        True,
        config=True,
        help="""Whether every settled request is recorded in the run history (its source,
        who ran it and when, its status, its final outputs and the inputs answered, never a
        password). The history already recorded stays readable when this is off.""",
    )

    history_db_path = Unicode(
        "",
        config=True,
        help=f"""The SQLite database of the run history, keyed by the notebooks' file ids.
        Empty: `{HISTORY_DB_NAME}` beside the YStore's database (`SQLiteYStore.db_path`).""",
    )

    history_runs_per_cell = Int(
        200,
        min=0,
        config=True,
        help="""How many runs of each cell the history keeps, the newest; 0: no limit.""",
    )

    history_max_bytes = Int(
        512 * 1024 * 1024,
        min=0,
        config=True,
        help="""The most bytes the history keeps (sources, inputs, and each distinct output
        once, compressed); past it, the oldest runs go first. 0: no limit.""",
    )

    history_max_age_days = Float(
        365.0,
        min=0.0,
        config=True,
        help="""Runs older than this many days are dropped from the history. 0: no limit.""",
    )

    room_ping_interval = Float(
        30.0,
        min=0.0,
        config=True,
        help="""Seconds between two pings on the collaboration rooms' websockets, and how long
        a client has to answer before the server closes its connection. A browser that
        vanished without closing its websocket (a closed laptop lid, a lost network) is let go
        within twice this time, instead of being kept, with every update for it, for good.
        Applies while `ServerApp.websocket_ping_interval` and `websocket_ping_timeout` are not
        set (jupyter_server leaves these websockets without pings by default); 0: no pings.""",
    )

    freeze_startup_objects = Bool(
        True,
        config=True,
        help="""Whether the objects that exist once the server has started (its modules,
        classes and settings, about 200,000) are left out of the garbage collector's full
        passes, which otherwise walk them all, holding the event loop for 60-100 ms each time.
        They live as long as the server anyway.""",
    )

    def _ping_settings(self) -> dict[str, float]:
        """Tornado's ping settings, where jupyter_server's are not configured."""
        configured = self.serverapp.config.get("ServerApp", {}) if self.serverapp else {}
        if not self.room_ping_interval:
            return {}
        return {
            name: self.room_ping_interval
            for name in ("websocket_ping_interval", "websocket_ping_timeout")
            if name not in configured
        }

    def _browser_websocket_settings(self) -> dict[str, Any]:
        """jupyter_server's gateway websocket proxy, for the browsers' kernel websockets,
        replaced by one that leaves no duplicate connection on the gateway
        (web/browser_proxy.py); a proxy configured otherwise is left alone."""
        settings = self.serverapp.web_app.settings if self.serverapp else {}
        if settings.get("kernel_websocket_connection_class") is not GatewayWebSocketConnection:
            return {}
        return {"kernel_websocket_connection_class": GatewayBrowserConnection}

    def _beside_ystore(self, name: str) -> Path:
        ystore = self.config.get("SQLiteYStore", {}).get("db_path") or ".jupyter_ystore.db"
        return Path(str(ystore)).parent / name

    def _database(self) -> Path:
        return Path(self.db_path) if self.db_path else self._beside_ystore(DB_NAME)

    def _blob_dir(self) -> Path:
        if self.widget_blob_dir:
            return Path(self.widget_blob_dir)
        return self._beside_ystore(BLOB_DIR_NAME)

    def initialize_settings(self) -> None:
        assert self.serverapp is not None
        point = self.serverapp.extension_manager.extension_points.get(YDOC_EXTENSION)
        if point is None or point.app is None:
            raise RuntimeError(
                "jupyterlab_collab_exec needs the jupyter_server_ydoc extension "
                "(jupyter-collaboration) to be enabled."
            )
        self.rooms = RoomAccess(point.app, self.log, checkpoint_interval=self.checkpoint_interval)
        trust = TrustAuthority(TrustStore(self._database()), parse_notebook_room_id, self.log)
        self.history = RunRecorder(
            HistorySettings(
                path=Path(self.history_db_path)
                if self.history_db_path
                else self._beside_ystore(HISTORY_DB_NAME),
                retention=Retention(
                    runs_per_cell=self.history_runs_per_cell or None,
                    total_bytes=self.history_max_bytes or None,
                    max_age_days=self.history_max_age_days or None,
                ),
                enabled=self.history_enabled,
            ),
            self.log,
        )
        self.service = ExecutionService(
            self.serverapp.kernel_manager,
            self.rooms,
            ExecutionSettings(
                flush_interval=self.flush_interval,
                retained_requests=self.retained_requests,
                max_output_bytes=self.max_output_bytes,
                response_timeout=self.kernel_response_timeout,
                widget_snapshot_interval=self.widget_snapshot_interval,
                max_widget_bytes=self.max_widget_bytes,
                widget_blob_dir=self._blob_dir(),
                widget_blob_threshold=self.widget_blob_threshold,
            ),
            trust,
            self.log,
            self.history,
        )
        self.settings["collab_exec_service"] = self.service
        self.settings.update(self._ping_settings())
        self.settings.update(self._browser_websocket_settings())
        self.loop_lag = LoopLagProbe()
        EventForwarder(self.service, self.rooms, self.log).subscribe(self.serverapp.event_logger)

    def initialize_handlers(self) -> None:
        self.handlers.extend(route_handlers())

    async def _start_jupyter_server_extension(self, serverapp: Any) -> None:
        self.loop_lag.start()
        if self.freeze_startup_objects:
            freeze_live_objects()

    async def stop_extension(self) -> None:
        await self.loop_lag.stop()
        await self.service.close()
        # After the service: the requests it settles on the way out are recorded too.
        await self.history.close()
        await self.rooms.close()
