"""A job's live state over a websocket.

On connect the consumer sends the row's current state. With a cross-process channel layer
(channels-redis) it then forwards the worker's pushes; with the in-memory layer, which a worker in
another process cannot reach, it polls the row twice a second and sends each change.
"""
from __future__ import annotations

import asyncio

from channels.db import database_sync_to_async
from channels.generic.websocket import AsyncJsonWebsocketConsumer
from django.http import Http404

from apps.jobs.push import job_group, layer_crosses_processes
from apps.jobs.selectors import job_get

POLL_S = 0.5


class JobConsumer(AsyncJsonWebsocketConsumer):
    async def connect(self):
        self.job_id = int(self.scope["url_route"]["kwargs"]["job_id"])
        state = await self._state()
        self._poller = None
        await self.accept()  # accept first: a close before accept reaches the browser only as 1006
        if state is None:
            await self.close(code=4404)
            return
        if layer_crosses_processes():
            await self.channel_layer.group_add(job_group(self.job_id), self.channel_name)
        else:
            self._poller = asyncio.ensure_future(self._poll(state))
        await self.send_json(state)

    async def disconnect(self, code):
        if getattr(self, "_poller", None):
            self._poller.cancel()
        if layer_crosses_processes() and hasattr(self, "job_id"):
            await self.channel_layer.group_discard(job_group(self.job_id), self.channel_name)

    async def job_state(self, event):
        await self.send_json(event["state"])

    async def _poll(self, last: dict):
        while last.get("status") not in ("succeeded", "failed", "cancelled"):
            await asyncio.sleep(POLL_S)
            state = await self._state()
            if state is None:
                return
            if state != last:
                await self.send_json(state)
                last = state

    @database_sync_to_async
    def _state(self) -> dict | None:
        try:
            return job_get(user=self.scope["user"], job_id=self.job_id).as_state()
        except Http404:
            return None
