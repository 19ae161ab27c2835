"""LearnWorlds API v2 emulator (one school), following /work/shared/reference/learnworlds-api.md.

Public surface:
- `create_app(config)`: FastAPI app serving `POST /admin/api/oauth2/access_token` and
  `/admin/api/v2/...` (users incl. `POST /v2/users`, `PUT /v2/users/{id}` and
  `PUT /v2/users/{id}/tags`, user courses and progress, courses, roster, grades, payments,
  certificates, event logs), the shared `/_sandbox/` control API, plus
  `POST /_sandbox/activity`, `GET|POST /_sandbox/webhooks` (and `/_sandbox/webhooks/clear`),
  `POST /_sandbox/users/{id_or_email}/edit` (an admin's edit in the school's UI),
  `POST /_sandbox/users/{id_or_email}/delete` (an admin deleting a user in the UI: the user,
  their enrollments, progress, certificates and grades go and answer 404 or leave course
  lists; payments and event logs stay; no webhook fires, none being documented),
  `GET /_sandbox/outbox` (and `/_sandbox/outbox/clear`: registration emails sent) and
  `GET|POST /_sandbox/signup-rules` (the sign-up validation rules in force);
- `load_dataset(app, path)`: load a generated dataset's `lms/*.jsonl` (docs/contracts.md 1);
- `LearnWorldsConfig`: credentials, limits, webhook target.

Where the real API is unconfirmed, these are the choices made (and pinned by tests):
- `meta.totalItems` is the grand total; `meta.totalPages` is at least 1 (an empty list is
  one empty page, like Laravel's `lastPage`); a page past the end serves the last page again
  with `meta.page` = the page served, except user progress, which answers an empty page.
- `items_per_page` (1..200, else 422) only where the spec declares it: users, roster,
  payments, user progress, grades. Elsewhere the documented fixed page size applies.
- Time filters (`registration_*`, `created_*`) include both ends.
- Missing/unknown `Lw-Client` on a data call: 400 `context: client_id`, as on the token call.
- Validation errors spelled out in the spec as `{"error": ...}` (bad `product_type`, missing
  certificate filter) are 400 with that shape; other 400/422s use the `errors` list shape.
- A user without progress answers an empty list (not the 404 some clients report).
- Webhooks send `Learnworlds-Webhook-Signature: v1=<webhook_secret>` (the pre-shared value,
  not an HMAC), one background thread, 3 retries with backoff.
- User writes (details and the remaining guesses in user_writes.py and routes/users.py):
  keys outside the spec's request models are ignored; null leaves a value unchanged;
  `fields`/`utms` update only the keys sent; `tags` on PUT replaces the set; a tag change
  fires one `userTagAdded`/`userTagDeleted` per changed tag with the tag under `data.tag`;
  sign-up rules (only with `signup_validation_rules: true`) are the stand-ins of
  `SignupRules`; `send_registration_email: null` sends (`registration_email_default`).
"""

from sandbox.learnworlds.app import create_app, load_dataset
from sandbox.learnworlds.config import LearnWorldsConfig

__all__ = ["LearnWorldsConfig", "create_app", "load_dataset"]
