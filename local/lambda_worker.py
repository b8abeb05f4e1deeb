"""One emulated Lambda execution environment: a child process that imports one handler and serves
invocations one at a time, like a warm Lambda container.

It is started as a script (not as part of the `local` package) so that its `sys.path` holds only the
function's asset directory, as on Lambda, and its environment is the function's own. The parent talks
to it over a pipe: each message is a 4-byte big-endian length and a JSON document. Whatever the
handler prints goes to this process's stdout/stderr, which the parent forwards as the function's logs.
"""

from __future__ import annotations

import importlib
import json
import os
import struct
import sys
import time
import traceback
from typing import Any


def read_message(stream: Any) -> Any | None:
    header = stream.read(4)
    if len(header) < 4:
        return None
    (length,) = struct.unpack(">I", header)
    return json.loads(stream.read(length))


def write_message(stream: Any, message: Any) -> None:
    payload = json.dumps(message, default=str).encode()
    stream.write(struct.pack(">I", len(payload)) + payload)
    stream.flush()


class LambdaContext:
    """The attributes and method of the context object that Lambda passes to a Python handler."""

    def __init__(self, request: dict[str, Any]) -> None:
        self.function_name = os.environ["AWS_LAMBDA_FUNCTION_NAME"]
        self.function_version = os.environ.get("AWS_LAMBDA_FUNCTION_VERSION", "$LATEST")
        self.invoked_function_arn = request["functionArn"]
        self.memory_limit_in_mb = int(os.environ.get("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "128"))
        self.aws_request_id = request["requestId"]
        self.log_group_name = os.environ.get("AWS_LAMBDA_LOG_GROUP_NAME", "")
        self.log_stream_name = os.environ.get("AWS_LAMBDA_LOG_STREAM_NAME", "")
        self.identity = None
        self.client_context = None
        self._deadline = request["deadline"]

    def get_remaining_time_in_millis(self) -> int:
        return max(0, int((self._deadline - time.time()) * 1000))


def load_handler(spec: str) -> Any:
    module_name, _, function_name = spec.rpartition(".")
    module = importlib.import_module(module_name)
    return getattr(module, function_name)


def main() -> None:
    channel_in = os.fdopen(int(sys.argv[1]), "rb")
    channel_out = os.fdopen(int(sys.argv[2]), "wb")
    try:
        handler = load_handler(os.environ["_HANDLER"])
    except Exception as error:  # an import error is reported on every invocation, as Lambda does
        init_error = {
            "errorType": f"Runtime.ImportModuleError: {type(error).__name__}",
            "errorMessage": str(error),
            "stackTrace": traceback.format_exc().splitlines(),
        }
        handler = None
    write_message(channel_out, {"ready": True})
    while (request := read_message(channel_in)) is not None:
        if handler is None:
            write_message(channel_out, {"error": init_error})
            continue
        try:
            result = handler(request["event"], LambdaContext(request))
            write_message(channel_out, {"result": result})
        except Exception as error:
            traceback.print_exc()
            write_message(
                channel_out,
                {
                    "error": {
                        "errorType": type(error).__name__,
                        "errorMessage": str(error),
                        "stackTrace": traceback.format_exc().splitlines(),
                    }
                },
            )
        finally:
            sys.stdout.flush()
            sys.stderr.flush()


if __name__ == "__main__":
    main()
