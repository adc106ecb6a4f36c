"""The job websocket: members get the row's state and its changes; others are closed with 4404."""
from __future__ import annotations

import asyncio

import pytest
from channels.db import database_sync_to_async
from channels.testing import WebsocketCommunicator

from apps.jobs.consumers import JobConsumer
from apps.jobs.models import Job

pytestmark = pytest.mark.django_db(transaction=True)


def communicator(job_id: int, user) -> WebsocketCommunicator:
    app = JobConsumer.as_asgi()
    comm = WebsocketCommunicator(app, f"/ws/jobs/{job_id}/")
    comm.scope["user"] = user
    comm.scope["url_route"] = {"kwargs": {"job_id": job_id}}
    return comm


@pytest.fixture
def job(investigation):
    return Job.objects.create(
        investigation=investigation, kind="import", status="running", progress=0.25, stage="Importing a.csv"
    )


def test_a_member_gets_the_state_then_each_change_until_it_finishes(job, users):
    async def scenario():
        comm = communicator(job.pk, users["carol"])
        connected, _ = await comm.connect()
        assert connected
        first = await comm.receive_json_from(timeout=5)
        await database_sync_to_async(Job.objects.filter(pk=job.pk).update)(progress=0.75, stage="Importing b.csv")
        second = await comm.receive_json_from(timeout=5)
        await database_sync_to_async(Job.objects.filter(pk=job.pk).update)(
            progress=1.0, status="succeeded", stage="Done"
        )
        third = await comm.receive_json_from(timeout=5)
        await comm.disconnect()
        return first, second, third

    first, second, third = asyncio.run(scenario())
    assert (first["status"], first["progress"], first["stage"]) == ("running", 0.25, "Importing a.csv")
    assert (second["progress"], second["stage"]) == (0.75, "Importing b.csv")
    assert third["status"] == "succeeded"


def test_a_non_member_is_closed_with_4404_and_learns_nothing(job, users):
    async def scenario():
        comm = communicator(job.pk, users["mallory"])
        await comm.connect()
        message = await comm.receive_output(timeout=5)
        return message

    message = asyncio.run(scenario())
    assert message == {"type": "websocket.close", "code": 4404}
