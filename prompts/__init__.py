"""Chat messages from a Problem (and K candidates), fitted to the model's context window."""

from prompts.builder import (
    Budget,
    CandidateText,
    ContextTooSmall,
    Prompt,
    PromptTooLong,
    Trim,
    aggregation_messages,
    build_aggregation,
    build_generation,
    generation_messages,
    trim_middle,
)
from prompts.template_set import PLACEHOLDERS, Templates, check_template, default_templates, load_templates
from prompts.verify import build_verification, verification_messages

__all__ = [
    "Budget",
    "CandidateText",
    "ContextTooSmall",
    "Prompt",
    "PromptTooLong",
    "PLACEHOLDERS",
    "Templates",
    "Trim",
    "aggregation_messages",
    "build_aggregation",
    "build_verification",
    "build_generation",
    "check_template",
    "default_templates",
    "generation_messages",
    "load_templates",
    "trim_middle",
    "verification_messages",
]
