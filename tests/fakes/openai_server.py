"""A small OpenAI-compatible HTTP server on 127.0.0.1 with scripted answers, for provider tests."""

import json
import threading
from collections import deque
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


class FakeOpenAIServer:
    """Serves ``POST /v1/embeddings`` and ``POST /v1/rerank``; each request takes the next scripted answer.

    A scripted answer is ``(status, body)``; with the script empty, embeddings are computed from the
    input text so that equal texts get equal vectors, and rerank scores are the share of query words
    a document contains, plus 10 when it contains ``rerank_boost``. Every request body is recorded.
    """

    def __init__(self, dimension: int = 8, rerank_boost: str = ""):
        self.dimension = dimension
        self.rerank_boost = rerank_boost.lower()
        self.script = deque()
        self.requests = []
        server = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                length = int(self.headers.get("Content-Length") or 0)
                payload = json.loads(self.rfile.read(length) or b"{}")
                server.requests.append({"path": self.path, "headers": dict(self.headers), "body": payload})
                default = server.rerank if self.path.endswith("/rerank") else server.embeddings
                status, body = server.script.popleft() if server.script else (200, default(payload))
                data = json.dumps(body).encode() if not isinstance(body, bytes) else body
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, *args):
                pass

        self._httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._thread = threading.Thread(target=self._httpd.serve_forever, daemon=True)

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self._httpd.server_address[1]}/v1"

    def embeddings(self, payload: dict) -> dict:
        inputs = payload.get("input") or []
        data = []
        for index, text in enumerate(inputs):
            seed = sum(ord(char) for char in text) or 1
            vector = [((seed * (position + 3)) % 97) / 97.0 for position in range(self.dimension)]
            data.append({"object": "embedding", "index": index, "embedding": vector})
        return {"object": "list", "data": data, "model": payload.get("model")}

    def rerank(self, payload: dict) -> dict:
        query_words = set(str(payload.get("query", "")).lower().split())
        results = []
        for index, document in enumerate(payload.get("documents") or []):
            words = set(str(document).lower().split())
            score = len(query_words & words) / max(1, len(query_words))
            if self.rerank_boost and self.rerank_boost in words:
                score += 10
            results.append({"index": index, "relevance_score": score})
        results.sort(key=lambda item: -item["relevance_score"])
        return {"results": results[: payload.get("top_n") or len(results)]}

    def __enter__(self):
        self._thread.start()
        return self

    def __exit__(self, *exc):
        self._httpd.shutdown()
        self._httpd.server_close()
