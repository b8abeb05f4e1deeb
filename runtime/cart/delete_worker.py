"""Delete worker: SQS messages `{"pk", "sk"}` of migrated anonymous lines -> conditional deletes.

Entry point: `handler`. Partial batch responses (Powertools BatchProcessor): a message that fails is
reported and retried alone, the others are done. Idempotent: the delete is conditional on the line
still being marked `migratedTo`, so a repeated message, or one about a line revived since (an old
cookie used again), does nothing.
"""

from __future__ import annotations

from typing import Annotated, Any

from aws_lambda_powertools import Logger, Tracer
from aws_lambda_powertools.utilities.batch import BatchProcessor, EventType, process_partial_response
from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord
from aws_lambda_powertools.utilities.typing import LambdaContext
from pydantic import BaseModel, ConfigDict, StringConstraints

from .repository import CART_PK_PREFIXES, PRODUCT_SK_PREFIX, get_repository

logger = Logger()
tracer = Tracer()


class MigratedLineKey(BaseModel):
    model_config = ConfigDict(strict=True)

    # Only anonymous cart lines are ever migrated; anything else is a bad message, not a delete.
    pk: Annotated[str, StringConstraints(pattern=f"^{CART_PK_PREFIXES['anonymous']}.+")]
    sk: Annotated[str, StringConstraints(pattern=f"^{PRODUCT_SK_PREFIX}.+")]


def delete_migrated_line(record: SQSRecord) -> None:
    key = MigratedLineKey.model_validate_json(record.body)
    deleted = get_repository().delete_migrated_line(key.pk, key.sk)
    logger.debug("migrated line processed", extra={"deleted": deleted, "message_id": record.message_id})


@logger.inject_lambda_context(log_event=False)
@tracer.capture_lambda_handler(capture_response=False)
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    # A processor per invocation: it holds the batch's results, which must not outlive it.
    processor = BatchProcessor(event_type=EventType.SQS)
    return process_partial_response(
        event=event, record_handler=delete_migrated_line, processor=processor, context=context
    )
