"""Ids are signed 64-bit integers in Zendesk and in the store; one bound for all inputs."""

from typing import Annotated

from fastapi import Path, Query

MAX_ID = 2**63 - 1

IdPath = Annotated[int, Path(gt=0, le=MAX_ID)]
OptionalIdQuery = Annotated[int | None, Query(gt=0, le=MAX_ID)]
BeforeIdQuery = Annotated[int | None, Query(gt=0, le=MAX_ID, description="Page: ids below this")]
