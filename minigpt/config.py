r"""Config dataclasses: checked when built, documented by their comments, loaded from JSON, turned into flags.

Every config in minigpt is a `@dataclass` with one comment per field, as nanoGPT's GPTConfig:

    @dataclass
    class PretrainConfig(Config):
        max_iters: int = 2000  # optimizer steps
        model: GPTConfig = field(default_factory=GPTConfig)  # the network

This module makes that comment the field's `--help` text (read from the class source with `ast` and
`tokenize`, so docs cannot drift from code), checks every value's type and `Literal[...]` choice when
the config is built, and maps nested configs to dotted flags: `PretrainConfig.model.n_embd` is
`--model.n-embd`, `PipelineConfig.pretrain.optim.lr` is `--pretrain.optim.lr`. A class adds its own range
checks in `validate()` with the helpers below (`positive`, `nonnegative`, ...), so a bad value fails before
any work starts, naming the field. A field that moved (into a nested config) is listed in the class's
`MOVED`, so configs saved before the move still load (`upgrade`).

    from minigpt.config import parse_config
    cfg = parse_config(PretrainConfig, ["--model.n-embd", "64", "--max-iters", "100"])
    cfg = parse_config(PretrainConfig, ["--config", "runs/pretrain/ckpt/config.json", "--max-iters", "10"])
"""
import argparse
import ast
import copy
import dataclasses
import functools
import inspect
import io
import json
import math
import numbers
import textwrap
import tokenize
import types
import typing
from typing import Literal, Union

__all__ = ["Config", "ConfigError", "positive", "nonnegative", "fraction", "in_range", "field_help", "from_dict", "to_dict",
           "moved_into", "upgrade", "load_config", "override", "apply_preset", "with_presets", "build_parser", "parse_config"]


class ConfigError(ValueError):
    """A config value that is out of range, of the wrong type, or unknown.

    `path` is the dotted field name ("pretrain.max_iters"), `owner` the config class it was checked in.
    """

    def __init__(self, path, message, owner=None):
        self.path, self.message, self.owner = path, message, owner
        super().__init__(path, message)

    def __str__(self):
        return f"{self.owner + '.' if self.owner else ''}{self.path} {self.message}"


# -----------------------------------------------------------------------------
# the base class: type checks + the class's own validate() on construction


class Config:
    """Base class of minigpt's config dataclasses: `__post_init__` checks types and choices, then `validate()`.

    A nested config may be given as a dict of the fields that differ from the parent's default for it:
    `DPOConfig(optim=dict(lr=3e-3))` is DPO's default optimizer settings (β2 = 0.95, ...) with lr = 3e-3.
    """

    # {name of a bool field: {dotted field: value}}: the preset that switching the field on applies, to every
    # value not given explicitly (`minigpt pipeline --quick`); see `with_presets`. Not a field: no annotation.
    PRESETS = {}
    # {old top-level field: its new dotted place}: fields that moved into a nested config, so that a config saved
    # before the move (a run's config.json, a --config file) still loads; see `upgrade`. Not a field either.
    MOVED = {}

    def __post_init__(self):
        try:
            _nested_from_dicts(self)
            check_types(self)
            self.validate()
        except ConfigError as e:
            e.owner = e.owner or type(self).__name__
            raise

    def validate(self):
        """Range checks of this config (override; raise ConfigError via the helpers below)."""

    def to_dict(self):
        return to_dict(self)

    @classmethod
    def from_dict(cls, d):
        return from_dict(cls, d)


def _nested_from_dicts(cfg):
    """Each nested config given as a dict becomes its field's default with those fields changed."""
    hints = _hints(type(cfg))
    for f in dataclasses.fields(cfg):
        value, tp = getattr(cfg, f.name), hints[f.name]
        if isinstance(value, dict) and dataclasses.is_dataclass(tp):
            default = _default(f)
            try:
                value = from_dict(tp, value, default if dataclasses.is_dataclass(default) else None)
            except ConfigError as e:
                raise ConfigError(f"{f.name}.{e.path}".rstrip("."), e.message) from None
            setattr(cfg, f.name, value)


def _fail(name, message):
    raise ConfigError(name, message)


def positive(cfg, *names):
    """Each named field is a finite number > 0 (counts, sizes, intervals, learning rates)."""
    for name in names:
        v = getattr(cfg, name)
        if not (math.isfinite(v) and v > 0):
            _fail(name, f"must be > 0, got {v!r}")


def nonnegative(cfg, *names):
    """Each named field is a finite number ≥ 0 (seeds, coefficients, warmup steps)."""
    for name in names:
        v = getattr(cfg, name)
        if not (math.isfinite(v) and v >= 0):
            _fail(name, f"must be ≥ 0, got {v!r}")


def fraction(cfg, *names):
    """Each named field is in [0, 1): dropout probabilities, AdamW's β1 and β2."""
    for name in names:
        in_range(cfg, name, 0.0, 1.0)


def in_range(cfg, name, lo, hi, hi_open=True):
    """The field lies in [lo, hi) (or [lo, hi] with hi_open=False): probabilities, Adam betas."""
    v = getattr(cfg, name)
    if not (lo <= v < hi if hi_open else lo <= v <= hi):
        _fail(name, f"must be in [{lo}, {hi}{')' if hi_open else ']'}, got {v!r}")


# -----------------------------------------------------------------------------
# types


@functools.lru_cache(maxsize=None)
def _hints(cls):
    return typing.get_type_hints(cls)


def _is_optional(tp):
    return typing.get_origin(tp) in (Union, types.UnionType) and type(None) in typing.get_args(tp)


def _inner(tp):
    """X for Optional[X]."""
    return next(a for a in typing.get_args(tp) if a is not type(None))


def _type_name(tp):
    if typing.get_origin(tp) is Literal:
        return repr(typing.get_args(tp))
    if _is_optional(tp):
        return f"{_type_name(_inner(tp))} or None"
    if typing.get_origin(tp) is tuple:
        return f"a tuple of {_type_name(typing.get_args(tp)[0])}"
    return {int: "an int", float: "a number", str: "a string", bool: "true/false"}.get(tp, getattr(tp, "__name__", str(tp)))


def _matches(value, tp):
    if tp is bool:
        return isinstance(value, bool)
    if tp is int:
        return isinstance(value, numbers.Integral) and not isinstance(value, bool)
    if tp is float:
        return isinstance(value, numbers.Real) and not isinstance(value, bool)
    if tp is str:
        return isinstance(value, str)
    if typing.get_origin(tp) is Literal:
        return value in typing.get_args(tp)
    if _is_optional(tp):
        return value is None or _matches(value, _inner(tp))
    if typing.get_origin(tp) is tuple:
        return isinstance(value, tuple) and all(_matches(v, typing.get_args(tp)[0]) for v in value)
    if dataclasses.is_dataclass(tp):
        return isinstance(value, tp)
    return True  # a type this module does not know: not checked


def check_types(cfg):
    """Every field holds its annotated type (ints for int, one of the choices for Literal[...], ...)."""
    hints = _hints(type(cfg))
    for f in dataclasses.fields(cfg):
        value = getattr(cfg, f.name)
        if not _matches(value, hints[f.name]):
            expected = _type_name(hints[f.name])
            what = "one of " if typing.get_origin(hints[f.name]) is Literal else ""
            _fail(f.name, f"must be {what}{expected}, got {value!r}")


# -----------------------------------------------------------------------------
# field comments -> help


@functools.lru_cache(maxsize=None)
def field_help(cls):
    """{field name: its comment} for a dataclass, read from the source: `n_embd: int = 128  # model width`.

    A field written over several lines may carry its comment on any of them; `metadata={"help": ...}`
    is used where a field has no comment. Fields of base classes are included.
    """
    out = {}
    for klass in reversed(cls.__mro__):
        if not dataclasses.is_dataclass(klass):
            continue
        try:
            source = textwrap.dedent(inspect.getsource(klass))
        except (OSError, TypeError):  # defined in a notebook or a REPL: no source file
            continue
        comments = {}  # line number -> comment text
        for tok in tokenize.generate_tokens(io.StringIO(source).readline):
            if tok.type == tokenize.COMMENT:
                comments[tok.start[0]] = tok.string.lstrip("#").strip()
        body = ast.parse(source).body[0].body
        for node in body:
            if isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name):
                text = " ".join(comments[n] for n in range(node.lineno, node.end_lineno + 1) if n in comments)
                if text:
                    out[node.target.id] = text
    for f in dataclasses.fields(cls):
        if f.name not in out and "help" in f.metadata:
            out[f.name] = f.metadata["help"]
    return out


# -----------------------------------------------------------------------------
# dict / JSON


def to_dict(cfg):
    """Nested plain dict (tuples become lists in JSON)."""
    return dataclasses.asdict(cfg)


def moved_into(name, cls):
    """{field: "<name>.<field>"} for every field of the config class `cls`: the `MOVED` of a config whose fields
    of that kind now live in its nested `name` field (`moved_into("optim", CosineOptimConfig)`: `lr` → `optim.lr`)."""
    return {f.name: f"{name}.{f.name}" for f in dataclasses.fields(cls)}


def upgrade(cls, d):
    """A copy of the config dict `d` (possibly saved by an older minigpt) with every field listed in the
    `MOVED` of `cls` and of its nested configs at its new place: PipelineConfig's old top-level `tokenizer`
    becomes `pretrain.tokenizer`, a stage's old `lr` becomes `optim.lr`. Other keys are left as they are."""
    if not isinstance(d, dict):
        return d
    d = dict(d)
    for old, new in getattr(cls, "MOVED", {}).items():
        if old not in d:
            continue
        *parents, last = new.split(".")
        target = d
        for part in parents:  # copy each dict on the way: the caller's dict is never changed
            target[part] = target = dict(target.get(part) or {})
        if last in target and target[last] != d[old]:
            raise ConfigError(old, f"moved to {new}, and both are given: keep only {new}", owner=cls.__name__)
        target[last] = d.pop(old)  # the same value in both places (some versions saved both): one setting
    hints = _hints(cls)
    for f in dataclasses.fields(cls):
        if dataclasses.is_dataclass(hints[f.name]) and isinstance(d.get(f.name), dict):
            d[f.name] = upgrade(hints[f.name], d[f.name])
    return d


def from_dict(cls, d, base=None):
    """Build `cls` from a (nested) dict; unknown keys and bad values raise ConfigError naming the dotted field.

    Fields missing from `d` take their value in `base` if given, else their default; a nested config given in
    part takes the rest from its parent's default (PPOConfig's `{"optim": {"lr": 1e-4}}` keeps PPO's β2 = 0.95,
    not OptimConfig's). Fields that moved (`cls.MOVED`) are read at their old place too (`upgrade`).
    """
    if not isinstance(d, dict):
        raise ConfigError("", f"must be a JSON object, got {d!r}", owner=cls.__name__)
    d = upgrade(cls, d)
    hints = _hints(cls)
    fields = {f.name: f for f in dataclasses.fields(cls) if f.init}
    unknown = sorted(set(d) - set(fields))
    if unknown:
        raise ConfigError(unknown[0], f"is not a field (fields: {', '.join(sorted(fields))})", owner=cls.__name__)
    kwargs = {}
    for name, value in d.items():
        tp = hints[name]
        if dataclasses.is_dataclass(tp) and isinstance(value, dict):
            parent = getattr(base, name) if base is not None else _default(fields[name])
            try:
                value = from_dict(tp, value, parent if dataclasses.is_dataclass(parent) else None)
            except ConfigError as e:
                raise ConfigError(f"{name}.{e.path}".rstrip("."), e.message, owner=cls.__name__) from None
        elif isinstance(value, list) and typing.get_origin(tp) is tuple:
            value = tuple(value)
        kwargs[name] = value
    if base is not None:
        for name in fields.keys() - kwargs.keys():
            kwargs[name] = copy.deepcopy(getattr(base, name))
    return cls(**kwargs)


def load_config(cls, path):
    """A config from a JSON file: a saved config, a checkpoint's config.json ("train_config") or metrics.json ("config")."""
    with open(path) as f:
        d = json.load(f)
    for key in ("train_config", "config"):
        if isinstance(d, dict) and isinstance(d.get(key), dict):
            d = d[key]
            break
    return from_dict(cls, d)


def _get(cfg, path):
    for part in path.split("."):
        cfg = getattr(cfg, part)
    return cfg


def _set(d, path, value):
    *parents, last = path.split(".")
    for part in parents:
        d = d[part]
    d[last] = value


def override(cfg, values):
    """`cfg` with {dotted field: value} set, checked: override(cfg, {"ppo.iters": 8, "pretrain.model.n_layer": 2})."""
    return apply_preset(cfg, values, only_defaults=False)


def apply_preset(cfg, preset, only_defaults=True):
    """`cfg` with the values of `preset` ({dotted field: value}); with only_defaults, fields the user changed
    from the class default keep their value. Unknown fields raise ConfigError (a preset cannot drift)."""
    defaults = type(cfg)()
    d = to_dict(cfg)  # (a preset is for configs whose every field has a default)
    for path, value in preset.items():
        try:
            current, default = _get(cfg, path), _get(defaults, path)
        except AttributeError:
            raise ConfigError(path, f"is not a field of {type(cfg).__name__}") from None
        if not only_defaults or current == default:
            _set(d, path, value)
    return from_dict(type(cfg), d)


def with_presets(cfg):
    """`cfg` with the preset of each switched-on field of `type(cfg).PRESETS`, applied once.

    A config built here or by `parse_config` comes back unchanged: parse_config applied the presets itself,
    before the flags, so that an explicit flag wins even where it names the class default
    (`--quick --pretrain.model.n-layer 3` gives 3). Any other config (built in Python) gets each preset on the
    fields still at their class default (`apply_preset`).
    """
    if getattr(cfg, "_presets_applied", False):
        return cfg
    for switch, preset in type(cfg).PRESETS.items():
        if getattr(cfg, switch):
            cfg = apply_preset(cfg, preset)
    return _presets_done(cfg)


def _presets_done(cfg):
    # subtle: an attribute, not a field, so it is neither saved nor compared; a copy made with
    # dataclasses.replace or from_dict loses it and gets the presets again, on its default-valued fields only
    cfg._presets_applied = True
    return cfg


# -----------------------------------------------------------------------------
# argparse


def _flag(path):
    return ".".join(part.replace("_", "-") for part in path.split("."))


def _parser_type(tp):
    """(argparse type, choices, nargs) for a field type."""
    if typing.get_origin(tp) is Literal:
        choices = typing.get_args(tp)
        return type(choices[0]), choices, None
    if _is_optional(tp):
        inner, choices, nargs = _parser_type(_inner(tp))

        def optional(text):
            return None if text.lower() == "none" else inner(text)
        optional.__name__ = inner.__name__ + " or none"
        return optional, choices, nargs
    if typing.get_origin(tp) is tuple:
        return typing.get_args(tp)[0], None, "+"
    return tp, None, None


def _default(f):
    """A dataclass field's default value, or MISSING for a required field."""
    if f.default is not dataclasses.MISSING:
        return f.default
    if f.default_factory is not dataclasses.MISSING:
        return f.default_factory()
    return dataclasses.MISSING


def _default_dict(cls):
    """{field: default} of every field that has one, nested configs as dicts (a parent's defaults for them)."""
    out = {}
    for f in dataclasses.fields(cls):
        value = _default(f)
        if f.init and value is not dataclasses.MISSING:
            out[f.name] = to_dict(value) if dataclasses.is_dataclass(value) else value
    return out


def _leaves(cls, defaults=None, prefix="", skip=(), title=None):
    """(dotted path, type, default, help, title) of every plain field of `cls`, nested configs expanded;
    `title` is "<path>: <comment>" of the nested config a field belongs to (None at the top).

    `defaults`: the instance whose values are the defaults (a parent's default for a nested config), else the
    field defaults. A parent hides fields of a nested config from the CLI with
    `field(default_factory=..., metadata={"cli_skip": ("out_dir", ...)})`.
    """
    hints, helps = _hints(cls), field_help(cls)
    for f in dataclasses.fields(cls):
        if f.name in skip or not f.init:
            continue
        tp = hints[f.name]
        value = _default(f) if defaults is None else getattr(defaults, f.name)
        if dataclasses.is_dataclass(tp):
            sub_title = f"{prefix + f.name}: {helps.get(f.name, tp.__name__)}"
            yield None, None, None, None, sub_title  # the nested config starts here: its flags form a group
            yield from _leaves(tp, value, prefix + f.name + ".", f.metadata.get("cli_skip", ()), sub_title)
        else:
            yield prefix + f.name, tp, value, helps.get(f.name, ""), title


def _show(value):
    if isinstance(value, tuple):
        return " ".join(map(_show, value))
    return {None: "none", "": "''"}.get(value, str(value)) if isinstance(value, (str, type(None))) else str(value)


def build_parser(cls, prog=None, description=None):
    """An ArgumentParser with one flag per (nested) field of `cls`, the field's comment as its help, plus
    `--config FILE` and `--debug`. Flags default to 'not given' so that --config values survive."""
    parser = argparse.ArgumentParser(prog=prog, description=description,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--config", metavar="FILE", default=None,
                        help="start from the config saved in this JSON file (a run's config, or a checkpoint's "
                             "config.json); flags given as well override it")
    parser.add_argument("--debug", action="store_true", help="on an error, show the full Python traceback")
    groups = {None: parser}
    for path, tp, default, help_, title in _leaves(cls):
        if path is None:
            groups[title] = parser.add_argument_group(title)
            continue
        group = groups[title]
        kind, choices, nargs = _parser_type(tp)
        shown = "required" if default is dataclasses.MISSING else f"default: {_show(default)}"
        text = f"{help_} ({shown})".strip().replace("%", "%%")
        flag = "--" + _flag(path)
        if tp is bool:
            group.add_argument(flag, dest=path, default=argparse.SUPPRESS, action=argparse.BooleanOptionalAction,
                               help=text)
        else:
            metavar = None if choices else path.split(".")[-1].upper()
            group.add_argument(flag, dest=path, default=argparse.SUPPRESS, type=kind, choices=choices,
                               nargs=nargs, metavar=metavar, help=text)
    return parser


def parse_config(cls, argv, prog=None, description=None, parser=None):
    """The config given by command-line `argv`: class defaults, then --config FILE, then the flags.

    Flags that do not parse exit through argparse (usage + error, status 2); a value out of range raises
    ConfigError naming the flag ('--max-iters must be > 0, got 0'), which `minigpt` prints as one line.
    """
    parser = parser or build_parser(cls, prog, description)
    args = vars(parser.parse_args(argv))
    flags = {path: tuple(v) if isinstance(v, list) else v for path, v in args.items() if path not in ("config", "debug")}
    defaults = _default_dict(cls)
    if args.get("config"):
        try:
            d = to_dict(load_config(cls, args["config"]))
        except ConfigError as e:
            parser.error(f"{args['config']}: {e}")
        except (OSError, json.JSONDecodeError) as e:
            parser.error(f"cannot read --config {args['config']}: {e}")
    else:
        d = _default_dict(cls)
    for switch, preset in cls.PRESETS.items():  # --quick: its preset first, so that every flag given wins over it
        if flags.get(switch, d.get(switch)):
            for path, value in preset.items():
                if _get_dict(d, path) == _get_dict(defaults, path):  # a value from --config is kept
                    _set(d, path, value)
    for path, value in flags.items():
        _set(d, path, value)
    missing = [f"--{_flag(f.name)}" for f in dataclasses.fields(cls) if f.init and f.name not in d]
    if missing:
        parser.error(f"the following arguments are required: {', '.join(missing)}")
    try:
        return _presets_done(from_dict(cls, d))
    except ConfigError as e:
        raise ConfigError("--" + _flag(e.path), e.message) from None


def _get_dict(d, path):
    for part in path.split("."):
        d = d[part]
    return d
