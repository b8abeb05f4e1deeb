"""The cart's SQS queues: encrypted, TLS only; terminal queues keep messages 14 days for inspection."""

from __future__ import annotations

from aws_cdk import Acknowledgment, Duration, Validations
from aws_cdk import aws_sqs as sqs

from constructs import Construct


def terminal_queue(scope: Construct, construct_id: str, what: str) -> sqs.Queue:
    """A dead-letter or on-failure queue (``what`` it is, for cdk-nag): nothing consumes it."""
    queue = sqs.Queue(
        scope,
        construct_id,
        retention_period=Duration.days(14),
        encryption=sqs.QueueEncryption.SQS_MANAGED,
        enforce_ssl=True,
    )
    terminal = (
        f"This queue is {what}: a terminal queue kept 14 days for inspection and "
        "redrive; giving it a DLQ of its own would only move the same messages again."
    )
    Validations.of(queue).acknowledge(
        Acknowledgment(id="AwsSolutions-SQS3", reason=terminal),
        Acknowledgment(id="Serverless-SQSRedrivePolicy", reason=terminal),
    )
    return queue
