"""Errors of federated learning, each named after the rule it guards."""

from __future__ import annotations

from puhui.domain.errors import Conflict, InvalidInput, NotFound, PuhuiError
from puhui.domain.origination.errors import Forbidden, RateLimited, Unauthenticated


class FederatedSignatureInvalid(Unauthenticated):
    """A message is not signed with the shared secret (or its signature headers are missing)."""

    code = "federated_signature_invalid"


class FederatedRequestExpired(Unauthenticated):
    """A message's timestamp is outside the accepted clock window."""

    code = "federated_request_expired"


class FederatedNonceReplayed(Conflict):
    """A message reuses a nonce already accepted: a replay, refused."""

    code = "federated_nonce_replayed"


class FederatedPeerUnavailable(PuhuiError):
    """The other party did not answer (down, unreachable, timed out)."""

    code = "federated_peer_unavailable"


class FederatedPeerRefused(PuhuiError):
    """The other party answered with an error."""

    code = "federated_peer_refused"


class FederatedSessionUnknown(NotFound):
    """A message names a PSI session, training run, epoch checkpoint or model the party lacks."""

    code = "federated_session_unknown"


class InvalidFederatedData(InvalidInput):
    """A party's data folder or a protocol message breaks the format."""

    code = "invalid_federated_data"


class FederatedSecretTooWeak(InvalidInput):
    """The shared secret is shorter than 32 bytes."""

    code = "federated_secret_too_weak"


class FederatedRecordUnknown(NotFound):
    """A message names an enterprise the party has no record of (or not in the intersection)."""

    code = "federated_record_unknown"


class FederatedConsentMissing(Forbidden):
    """An id asked for online scoring comes without the applicant's authorisation."""

    code = "federated_consent_missing"


class FederatedConsentExpired(Forbidden):
    """The authorisation named for an id has expired."""

    code = "federated_consent_expired"


class FederatedRateLimited(RateLimited):
    """The bank asked for more online scores than the owner's per-minute limit allows."""

    code = "federated_rate_limited"
