"""How much identity mess the generator injects, as shares of learners."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field, model_validator

# Learners per occurrence of a kind; a shared inbox draws 2-4 learners (mean 3).
KIND_SIZES: dict[str, float] = {"shared_inbox": 3.0, "duplicate_learner": 2.0}


class MessRates(BaseModel):
    """Share of learners (0-1) that get each kind of identity mess.

    The kinds are mutually exclusive per learner; the learners left over are "clean"
    (same email on both sides). `contact_lms_user_id`, `never_learned_contacts` and
    `plus_address_contact` are not kinds: they tune the clean cases and the extra contacts.
    """

    model_config = ConfigDict(extra="forbid")

    case_whitespace: float = Field(0.05, ge=0, le=1)
    unicode: float = Field(0.02, ge=0, le=1)
    additional_email: float = Field(0.04, ge=0, le=1)
    personal_freemail: float = Field(0.04, ge=0, le=1)
    id_match: float = Field(0.03, ge=0, le=1)
    plus_address: float = Field(0.03, ge=0, le=1)
    gmail_dots: float = Field(0.02, ge=0, le=1)
    shared_inbox: float = Field(0.03, ge=0, le=1)
    duplicate_learner: float = Field(0.02, ge=0, le=1)
    id_conflict: float = Field(0.02, ge=0, le=1)
    shared_additional_email: float = Field(0.01, ge=0, le=1)
    no_contact: float = Field(0.06, ge=0, le=1)
    company_by_domain: float = Field(0.04, ge=0, le=1)
    freemail_contact: float = Field(0.06, ge=0, le=1)
    disposable: float = Field(0.01, ge=0, le=1)

    # Share of otherwise-clean contacts that already carry the learner's id (earlier syncs).
    contact_lms_user_id: float = Field(0.10, ge=0, le=1)
    # Contacts that never learned, per learner.
    never_learned_contacts: float = Field(0.20, ge=0, le=5)
    # Share of plus-address learners whose +tag address is its own HubSpot contact.
    plus_address_contact: float = Field(0.5, ge=0, le=1)

    @model_validator(mode="after")
    def _kinds_fit(self) -> MessRates:
        total = sum(self.kinds().values())
        if total > 1:
            raise ValueError(f"mess kind rates sum to {total:.3f}; they must sum to at most 1")
        return self

    def kinds(self) -> dict[str, float]:
        """The mutually exclusive kinds and their shares of learners."""
        extra = {"contact_lms_user_id", "never_learned_contacts", "plus_address_contact"}
        return {k: v for k, v in self.model_dump().items() if k not in extra}
