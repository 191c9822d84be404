"""A Redis lock with an expiry, token-checked release and renewal, for single-writer loops."""

import logging
import secrets

import redis

logger = logging.getLogger(__name__)

# Delete or extend the key only while it still holds our token, so a holder whose lock expired
# and was taken by another process can never release or extend the new holder's lock.
_RELEASE_SCRIPT = """
if redis.call('get', KEYS[1]) == ARGV[1] then
    return redis.call('del', KEYS[1])
end
return 0
"""
_RENEW_SCRIPT = """
if redis.call('get', KEYS[1]) == ARGV[1] then
    return redis.call('pexpire', KEYS[1], ARGV[2])
end
return 0
"""


class RedisLock:
    """A named lock held by at most one process at a time, for ``ttl_seconds`` unless renewed."""

    def __init__(self, client: redis.Redis, name: str, ttl_seconds: float):
        self.client = client
        self.name = name
        self.ttl_ms = int(ttl_seconds * 1000)
        self.token = secrets.token_hex(16)
        self._release = client.register_script(_RELEASE_SCRIPT)
        self._renew = client.register_script(_RENEW_SCRIPT)

    def acquire(self) -> bool:
        return bool(self.client.set(self.name, self.token, nx=True, px=self.ttl_ms))

    def renew(self) -> bool:
        """Extend the expiry; False means the lock was lost and the holder must stop writing."""
        return bool(self._renew(keys=[self.name], args=[self.token, self.ttl_ms]))

    def release(self) -> bool:
        return bool(self._release(keys=[self.name], args=[self.token]))

    def held(self) -> bool:
        value = self.client.get(self.name)
        return value is not None and value.decode() == self.token
