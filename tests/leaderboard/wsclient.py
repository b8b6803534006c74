"""A minimal Streamlit client over the app's websocket (what a browser tab does, without the browser).

Each :class:`AppSession` is one session of the served app: :meth:`AppSession.run` asks the server to run
the page script and returns the elements it sent until the run finished. The load test runs twenty of
them at once; a headless Chromium per reader would not fit a 2-core CI machine.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import pandas as pd
import websocket  # websocket-client, a dependency of selenium
from streamlit.dataframe_util import convert_arrow_bytes_to_pandas_df
from streamlit.proto.BackMsg_pb2 import BackMsg
from streamlit.proto.ForwardMsg_pb2 import ForwardMsg


@dataclass
class Run:
    """What one script run sent: its elements, the exceptions among them, and how it finished."""

    elements: list = field(default_factory=list)
    exceptions: list[str] = field(default_factory=list)
    finished: str = ""

    def dataframes(self) -> list[pd.DataFrame]:
        return [convert_arrow_bytes_to_pandas_df(e.dataframe.arrow_data.data) for e in self.elements
                if e.WhichOneof("type") == "dataframe"]


class AppSession:
    def __init__(self, port: int, timeout_s: float = 60) -> None:
        self.ws = websocket.create_connection(f"ws://127.0.0.1:{port}/_stcore/stream", subprotocols=["streamlit"],
                                              timeout=timeout_s)

    def run(self, page_script_hash: str = "") -> Run:
        msg = BackMsg()
        msg.rerun_script.query_string = ""
        msg.rerun_script.page_script_hash = page_script_hash
        self.ws.send_binary(msg.SerializeToString())
        out = Run()
        while not out.finished:
            fwd = ForwardMsg()
            fwd.ParseFromString(self.ws.recv())
            kind = fwd.WhichOneof("type")
            if kind == "delta" and fwd.delta.WhichOneof("type") == "new_element":
                element = fwd.delta.new_element
                out.elements.append(element)
                if element.WhichOneof("type") == "exception":
                    out.exceptions.append(f"{element.exception.type}: {element.exception.message}")
            elif kind == "script_finished":
                out.finished = ForwardMsg.ScriptFinishedStatus.Name(fwd.script_finished)
            elif kind == "ref_hash":
                raise AssertionError("the server sent a cached message reference this client never asked for")
        return out

    def close(self) -> None:
        self.ws.close()
