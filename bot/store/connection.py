"""Open the Redis connection warroom uses."""

from __future__ import annotations

import redis.asyncio as aioredis


def connect(url: str) -> aioredis.Redis:
    """A client that reconnects by itself and retries a dropped connection."""
    from redis.asyncio.retry import Retry
    from redis.backoff import ExponentialBackoff
    from redis.exceptions import ConnectionError as RedisConnectionError, TimeoutError as RedisTimeout

    return aioredis.from_url(
        url,
        retry=Retry(ExponentialBackoff(cap=2.0, base=0.05), retries=20),
        retry_on_error=[RedisConnectionError, RedisTimeout],
        health_check_interval=15,
        socket_connect_timeout=5,
    )


async def reachable(url: str, *, timeout: float = 3.0) -> bool:
    """One quick PING without retries (start-up check)."""
    from redis.exceptions import RedisError

    client = aioredis.from_url(url, socket_connect_timeout=timeout, socket_timeout=timeout)
    try:
        return bool(await client.ping())
    except (RedisError, OSError):
        return False
    finally:
        await client.aclose()
