"""A small OpenAI-compatible chat and embedding server on 127.0.0.1 with scripted answers.

``POST /v1/chat/completions`` takes the next scripted ``Reply`` from ``script``; when the script is
empty it calls ``responder(body)``, which tests set to answer by the prompt's content. ``POST
/v1/embeddings`` returns hashed bag-of-words vectors, so texts that share words are similar.
Every request is recorded with its size in bytes.
"""

import hashlib
import json
import math
import re
import threading
import time
from collections import deque
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

WORD = re.compile(r"\w+")


@dataclass
class Reply:
    """One scripted answer: the message content, or an HTTP error status with a body."""

    content: str = ""
    status: int = 200
    delay: float = 0.0
    finish_reason: str = "stop"
    headers: dict = field(default_factory=dict)
    error_body: str = '{"error": {"message": "scripted failure"}}'


@dataclass
class RecordedRequest:
    path: str
    body: dict
    size: int

    @property
    def prompt(self) -> str:
        return "\n".join(message.get("content") or "" for message in self.body.get("messages", []))

    @property
    def user_prompt(self) -> str:
        messages = [m for m in self.body.get("messages", []) if m.get("role") == "user"]
        return messages[-1]["content"] if messages else ""


def bag_of_words_vector(text: str, dimension: int) -> list[float]:
    """Return an L2-normalised vector of hashed, lower-cased words."""
    vector = [0.0] * dimension
    for word in WORD.findall(text.lower()):
        bucket = int(hashlib.md5(word.encode()).hexdigest(), 16) % dimension
        vector[bucket] += 1.0
    norm = math.sqrt(sum(value * value for value in vector)) or 1.0
    if not any(vector):
        vector[0] = 1.0
        norm = 1.0
    return [value / norm for value in vector]


class FakeChatServer:
    def __init__(self, dimension: int = 64):
        self.dimension = dimension
        self.script: deque[Reply] = deque()
        self.responder = lambda body: Reply(content="{}")
        self.requests: list[RecordedRequest] = []
        self.embedding_requests: list[RecordedRequest] = []
        self._lock = threading.Lock()
        server = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                length = int(self.headers.get("Content-Length") or 0)
                raw = self.rfile.read(length)
                body = json.loads(raw or b"{}")
                record = RecordedRequest(path=self.path, body=body, size=len(raw))
                if self.path.endswith("/embeddings"):
                    server.embedding_requests.append(record)
                    self._send(200, json.dumps(server.embeddings(body)).encode())
                    return
                with server._lock:
                    server.requests.append(record)
                    reply = server.script.popleft() if server.script else None
                if reply is None:
                    reply = server.responder(body)
                if reply.delay:
                    time.sleep(reply.delay)
                if reply.status != 200:
                    self._send(reply.status, reply.error_body.encode(), reply.headers)
                    return
                payload = {
                    "id": "chatcmpl-fake",
                    "object": "chat.completion",
                    "model": body.get("model"),
                    "choices": [
                        {"index": 0, "message": {"role": "assistant", "content": reply.content}, "finish_reason": reply.finish_reason}
                    ],
                    "usage": {"prompt_tokens": len(raw) // 4, "completion_tokens": len(reply.content) // 4},
                }
                self._send(200, json.dumps(payload).encode(), reply.headers)

            def _send(self, status, data, headers=None):
                try:
                    self.send_response(status)
                    self.send_header("Content-Type", "application/json")
                    self.send_header("Content-Length", str(len(data)))
                    for key, value in (headers or {}).items():
                        self.send_header(key, value)
                    self.end_headers()
                    self.wfile.write(data)
                except (BrokenPipeError, ConnectionResetError):
                    # The client gave up (a read timeout test); nothing is left to answer.
                    pass

            def log_message(self, *args):
                pass

        self._httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._httpd.daemon_threads = True
        self._thread = threading.Thread(target=self._httpd.serve_forever, daemon=True)

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self._httpd.server_address[1]}/v1"

    def embeddings(self, body: dict) -> dict:
        inputs = body.get("input") or []
        if isinstance(inputs, str):
            inputs = [inputs]
        data = [
            {"object": "embedding", "index": index, "embedding": bag_of_words_vector(text, self.dimension)}
            for index, text in enumerate(inputs)
        ]
        return {"object": "list", "data": data, "model": body.get("model")}

    def start(self):
        self._thread.start()
        return self

    def stop(self):
        self._httpd.shutdown()
        self._httpd.server_close()

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()
