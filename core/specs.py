"""Component specs: what a plugin declares about each component, as frozen pydantic data.

A spec is everything the kernel needs to know about a component *before* building it: its name,
where the code lives (``target``, imported only on creation), which keyword options it accepts
(an options model) and the per-kind facts (a model's architecture arguments and pretrained
configs, a pool's feature multiplier, ...). Specs import no torch, so listing and describing
components stays cheap.
"""

from __future__ import annotations

import importlib
import re
from typing import Any, ClassVar, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    field_serializer,
    field_validator,
    model_validator,
)

__all__ = [
    "KINDS",
    "Options",
    "NoOptions",
    "ComponentSpec",
    "ModelSpec",
    "PoolSpec",
    "AugmentSpec",
    "ReaderSpec",
    "OptimizerSpec",
    "SchedulerSpec",
    "LossSpec",
    "LoggerSpec",
    "PretrainedCfg",
    "SPEC_CLASSES",
    "import_target",
]

#: The kinds of component, in the order the CLI and docs list them: the five model-building kinds,
#: then the three the training app uses (lr schedulers, losses, run loggers).
KINDS: tuple[str, ...] = ("model", "pool", "augment", "reader", "optimizer", "scheduler", "loss", "logger")

_NAME_RE = re.compile(r"^[A-Za-z_][A-Za-z0-9_\-]*$|^$")
_TARGET_RE = re.compile(r"^[A-Za-z_][\w]*(\.[A-Za-z_][\w]*)*:[A-Za-z_][\w]*(\.[A-Za-z_][\w]*)*$")


def import_target(target: str) -> Any:
    """Import ``"package.module:attr.sub"`` and return the attribute it names."""
    module_name, _, attr_path = target.partition(":")
    obj: Any = importlib.import_module(module_name)
    for part in attr_path.split("."):
        obj = getattr(obj, part)
    return obj


class Options(BaseModel):
    """Base class for a component's options model.

    Subclasses declare one field per keyword option the component accepts, each with a
    ``description``. Unknown options are rejected (``extra="forbid"``), so a typo is an error
    rather than a silently ignored argument.
    """

    model_config = ConfigDict(extra="forbid", frozen=True, arbitrary_types_allowed=True)


class NoOptions(Options):
    """Options model of a component that takes no keyword options."""


def _options_path(cls: type[BaseModel]) -> str:
    return f"{cls.__module__}:{cls.__qualname__}"


class ComponentSpec(BaseModel):
    """What every component declares, whatever its kind."""

    model_config = ConfigDict(frozen=True, extra="forbid", arbitrary_types_allowed=True)

    kind: ClassVar[str] = ""
    #: ``"module:function"`` of the kind's own creation step, for kinds whose framework package does
    #: more than call the target (a model gets its ``pretrained_cfg``, weights, features_only). The
    #: kernel's ``create`` calls it as ``function(entry, *args, **options)``; "" calls the target.
    creator: ClassVar[str] = ""

    name: str = Field(description="Registry name, unique within the kind (e.g. 'resnet50d').")
    target: str = Field(
        description="'package.module:attr' of the callable that builds the component; imported "
        "only when the component is created."
    )
    options: type[Options] = Field(
        default=NoOptions,
        description="Options model: the keyword options the component accepts, validated by create().",
    )
    aliases: tuple[str, ...] = Field(default=(), description="Other names that resolve to this component.")
    tags: frozenset[str] = Field(
        default=frozenset(), description="Capabilities; they select which conformance checks apply."
    )
    summary: str = Field(default="", description="One line saying what the component is.")

    @field_validator("name")
    @classmethod
    def _check_name(cls, value: str) -> str:
        if not _NAME_RE.match(value) or "::" in value:
            raise ValueError(
                f"invalid component name {value!r}: use letters, digits, '_' and '-', starting with a "
                "letter or '_' (the '::' separator is reserved for qualified names)"
            )
        return value

    @field_validator("aliases")
    @classmethod
    def _check_aliases(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        for alias in value:
            cls._check_name(alias)
        return value

    @field_validator("target")
    @classmethod
    def _check_target(cls, value: str) -> str:
        if not _TARGET_RE.match(value):
            raise ValueError(
                f"invalid target {value!r}: expected 'package.module:attribute', e.g. "
                "'my_plugin.models:TinyNet'"
            )
        return value

    @field_validator("options", mode="before")
    @classmethod
    def _load_options(cls, value: Any) -> Any:
        if isinstance(value, str):
            try:
                value = import_target(value)
            except (ImportError, AttributeError) as exc:
                raise ValueError(f"cannot import options model {value!r}: {exc}") from exc
        if not (isinstance(value, type) and issubclass(value, Options)):
            raise ValueError(
                f"options must be a subclass of pimm.core.specs.Options, got {value!r}"
            )
        return value

    @field_serializer("options")
    def _dump_options(self, value: type[Options]) -> str:
        return _options_path(value)

    @field_serializer("tags")
    def _dump_tags(self, value: frozenset[str]) -> list[str]:
        return sorted(value)

    @property
    def selection_tags(self) -> frozenset[str]:
        """Tags that select conformance checks: the declared ``tags`` plus implicit ones of the kind."""
        return self.tags

    def call_args(self, options: dict[str, Any]) -> dict[str, Any]:
        """Keyword arguments the target receives for validated ``options``.

        The base rule passes the options as they are; kinds whose spec binds fixed arguments
        (a model's architecture) override this.
        """
        return dict(options)

    def describe(self) -> dict[str, Any]:
        """JSON-ready description: the spec's data plus the options' JSON schema."""
        data = {"kind": self.kind, **self.model_dump(mode="json")}
        data["options_schema"] = self.options.model_json_schema()
        return data


class PretrainedCfg(BaseModel):
    """A pretrained weight configuration (timm's ``PretrainedCfg`` fields and defaults)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    url: str | None = None
    file: str | None = None
    hf_hub_id: str | None = None
    hf_hub_filename: str | None = None
    source: str | None = None
    architecture: str | None = None
    tag: str | None = None
    custom_load: bool = False
    input_size: tuple[int, int, int] = (3, 224, 224)
    test_input_size: tuple[int, int, int] | None = None
    min_input_size: tuple[int, int, int] | None = None
    fixed_input_size: bool = False
    interpolation: str = "bicubic"
    crop_pct: float = 0.875
    test_crop_pct: float | None = None
    crop_mode: Literal["center", "squash", "border"] = "center"
    mean: tuple[float, ...] = (0.485, 0.456, 0.406)
    std: tuple[float, ...] = (0.229, 0.224, 0.225)
    num_classes: int = 1000
    label_offset: int | None = None
    label_names: tuple[str, ...] | None = None
    label_descriptions: dict[str, str] | None = None
    pool_size: tuple[int, int] | None = None
    test_pool_size: tuple[int, int] | None = None
    first_conv: str | tuple[str, ...] | None = None
    classifier: str | tuple[str, ...] | None = None
    license: str | None = None
    description: str | None = None
    origin_url: str | None = None
    paper_name: str | None = None
    paper_ids: str | tuple[str, ...] | None = None
    notes: tuple[str, ...] | None = None
    sha256: str | None = Field(default=None, description="Expected sha256 of the weight file, when known.")
    hash_prefix: str | None = Field(
        default=None,
        description="Leading hex digits of the sha256 of the file at `url` (torch hub's 'name-<prefix>.pth' "
        "convention); checked when that file is used.",
    )

    @property
    def has_weights(self) -> bool:
        """True when the config points at weights (url, file or hub id)."""
        return bool(self.url or self.file or self.hf_hub_id)


class ModelSpec(ComponentSpec):
    """A model architecture: fixed architecture arguments plus pretrained configs by tag."""

    kind: ClassVar[str] = "model"
    creator: ClassVar[str] = "pimm.core.models.factory:create_model_entry"

    arch_args: dict[str, Any] = Field(
        default_factory=dict,
        description="Architecture arguments bound to the target (JSON data); users cannot override them.",
    )
    pretrained_cfgs: dict[str, PretrainedCfg] = Field(
        default_factory=dict,
        description="Pretrained configs by tag, in priority order (the first with weights is the default).",
    )
    deprecated_names: dict[str, str] = Field(
        default_factory=dict,
        description="Old names ('tv_resnet50') mapped to 'arch.tag' they now mean; they resolve with a "
        "warning and are hidden from listings.",
    )

    @model_validator(mode="after")
    def _check_arch_args(self) -> ModelSpec:
        clash = set(self.arch_args) & set(self.options.model_fields)
        if clash:
            raise ValueError(
                f"model {self.name!r}: arch_args {sorted(clash)} are also user options; an argument is "
                "either fixed by the architecture or chosen by the user, not both"
            )
        return self

    def call_args(self, options: dict[str, Any]) -> dict[str, Any]:
        return {**self.arch_args, **options}

    @property
    def default_tag(self) -> str | None:
        """The tag used when a name has none: the first tag with weights, else the first tag."""
        for tag, cfg in self.pretrained_cfgs.items():
            if cfg.has_weights:
                return tag
        return next(iter(self.pretrained_cfgs), None)


class PoolSpec(ComponentSpec):
    """A global pooling layer usable in any model's classifier head."""

    kind: ClassVar[str] = "pool"

    feat_mult: int = Field(
        default=1, ge=1, description="Output channels per input channel (2 for concat-of-avg-and-max)."
    )


class AugmentSpec(ComponentSpec):
    """An augmentation: a single op (RandAugment-style), a policy, or a batch transform."""

    kind: ClassVar[str] = "augment"

    role: Literal["op", "policy", "transform", "batch"] = Field(
        default="op",
        description="'op': one image op with a magnitude; 'policy': samples ops by config string; "
        "'transform': a plain image transform; 'batch': acts on (images, targets) batches.",
    )
    config_prefix: str | None = Field(
        default=None, description="For policies: the config-string prefix it parses (e.g. 'rand')."
    )

    @property
    def selection_tags(self) -> frozenset[str]:
        """Declared tags plus ``role:<role>``, so checks can target ops or policies only."""
        return self.tags | {f"role:{self.role}"}


class ReaderSpec(ComponentSpec):
    """A dataset reader, routed to by ``create_dataset`` through its name prefixes."""

    kind: ClassVar[str] = "reader"

    prefixes: tuple[str, ...] = Field(
        default=(), description="Dataset-name prefixes routed to this reader (e.g. 'torch', 'wds')."
    )
    iterable: bool = Field(default=False, description="True for streaming readers (no random access).")


class OptimizerSpec(ComponentSpec):
    """An optimizer and the facts the factory needs to fill in its arguments."""

    kind: ClassVar[str] = "optimizer"

    has_momentum: bool = False
    has_betas: bool = False
    num_betas: int = 2
    has_eps: bool = True
    second_order: bool = False
    defaults: dict[str, Any] = Field(
        default_factory=dict, description="Registry defaults applied by the factory (user values win)."
    )


class SchedulerSpec(ComponentSpec):
    """A learning-rate scheduler and what the training app must know before building it."""

    kind: ClassVar[str] = "scheduler"

    needs_metric: bool = Field(
        default=False,
        description="True when each step needs the latest validation metric (plateau-style schedulers); the "
        "app then steps it after validation with metric=<value>.",
    )
    cyclic: bool = Field(
        default=False,
        description="True when the schedule repeats in cycles; the run length is then the cycles' total "
        "(plus cooldown) rather than the schedule's own length.",
    )


class LossSpec(ComponentSpec):
    """A training loss and the target forms it accepts."""

    kind: ClassVar[str] = "loss"

    targets: frozenset[Literal["index", "soft"]] = Field(
        default=frozenset({"index"}),
        description="Target forms the loss accepts: 'index' (class indices, shape (B,)) and/or 'soft' "
        "(per-class probabilities shaped like the logits, as Mixup/CutMix produce).",
    )

    @field_validator("targets")
    @classmethod
    def _check_targets(cls, value: frozenset[str]) -> frozenset[str]:
        if not value:
            raise ValueError("targets must name at least one target form: 'index' and/or 'soft'")
        return value

    @field_serializer("targets")
    def _dump_targets(self, value: frozenset[str]) -> list[str]:
        return sorted(value)

    @property
    def selection_tags(self) -> frozenset[str]:
        """Declared tags plus ``targets:<form>`` per accepted target form."""
        return self.tags | {f"targets:{form}" for form in self.targets}


class LoggerSpec(ComponentSpec):
    """A run logger (metrics file, TensorBoard, an experiment tracker ...)."""

    kind: ClassVar[str] = "logger"

    requires: tuple[str, ...] = Field(
        default=(),
        description="Importable top-level modules the logger needs (e.g. 'tensorboard'); checked before "
        "building so a missing one is one clear error with install_hint.",
    )
    install_hint: str = Field(
        default="", description="How to install what `requires` names (e.g. \"pip install 'pimm[tensorboard]'\")."
    )
    files: tuple[str, ...] = Field(
        default=(), description="Files or folders the logger writes inside the run directory."
    )


#: Spec class per kind.
SPEC_CLASSES: dict[str, type[ComponentSpec]] = {
    cls.kind: cls
    for cls in (ModelSpec, PoolSpec, AugmentSpec, ReaderSpec, OptimizerSpec, SchedulerSpec, LossSpec, LoggerSpec)
}
