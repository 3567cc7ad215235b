"""Tables of mass testing (全员核酸), one module per part of the work:

- rounds:   rounds, their scope and their computed target population (应检人群)
- sampling: sampling points, tubes and samples (what samplers register on phones)
- labs:     transport boxes, labs' results and their corrections, result imports,
            holds (原地管控) and single-tube rechecks (单管复核) of positive pools
- supplies: stock of swabs, tubes and protective equipment per point and warehouse

Every person-bearing row carries `jurisdiction_path` (the person's, denormalized) so that
scoping is one indexed range (core/paths.py), as in the people and tracing apps.
"""

from fangkong.testing.models.labs import (
    BoxState,
    Hold,
    HoldState,
    Recheck,
    RecheckStatus,
    ResultImport,
    ResultValue,
    TransportBox,
    TubeResult,
    TubeResultCorrection,
)
from fangkong.testing.models.rounds import (
    Round,
    RoundPurpose,
    RoundScope,
    RoundStatus,
    RoundTarget,
    SealedPooling,
)
from fangkong.testing.models.sampling import QueueStatus, Sample, SamplingPoint, Tube, TubeState
from fangkong.testing.models.supplies import (
    MovementKind,
    SupplyKind,
    SupplyMovement,
    SupplyStock,
)

__all__ = [
    "BoxState",
    "Hold",
    "HoldState",
    "MovementKind",
    "QueueStatus",
    "Recheck",
    "RecheckStatus",
    "ResultImport",
    "ResultValue",
    "Round",
    "RoundPurpose",
    "RoundScope",
    "RoundStatus",
    "RoundTarget",
    "Sample",
    "SamplingPoint",
    "SealedPooling",
    "SupplyKind",
    "SupplyMovement",
    "SupplyStock",
    "TransportBox",
    "Tube",
    "TubeResult",
    "TubeResultCorrection",
    "TubeState",
]
