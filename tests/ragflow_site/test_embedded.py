"""The embedded Valkey server: started on demand, reused, stopped."""

import redis

from ragflow_site import embedded


def test_valkey_start_reuse_stop(tmp_path):
    url = embedded.ensure_valkey(tmp_path)
    try:
        client = redis.Redis.from_url(url)
        client.set("probe", "1")

        assert embedded.ensure_valkey(tmp_path) == url
        assert client.get("probe") == b"1"
        client.close()
    finally:
        assert embedded.stop_valkey(tmp_path)
    assert not embedded.redis_answers(url)
    assert not embedded.stop_valkey(tmp_path)


def test_redis_answers_false_for_closed_port():
    assert not embedded.redis_answers("redis://127.0.0.1:1/0")
