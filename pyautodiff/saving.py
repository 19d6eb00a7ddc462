"""Objects to JSON-able configs and back, as Keras' serialize_keras_object / deserialize_keras_object.

An object with get_config serializes as {"module", "class_name", "config"}: module names the pyautodiff
module of a built-in class ("layers", "losses", ...) and is None for a user's class, whose class_name is the
name it was registered under (`@register_keras_serializable`) or else its class name. A function (a custom
activation) serializes as {"module": None, "class_name": "function", "config": its registered name}.

Deserializing trusts nothing in the data: a class or function is only ever looked up by name in the tables of
the built-in classes, the registered objects and the custom_objects given; nothing is imported or evaluated.
The config's nested objects are deserialized first, then `cls.from_config(config)` (Layer's default is
`cls(**config)`) builds the object; any error while building becomes a ValueError naming the class.
"""

import inspect

from . import constraints, initializers, layers, losses, metrics, optimizers, regularizers

_REGISTERED: dict = {}  # registered name -> class or function
_NAMES: dict = {}  # id(class or function) -> its registered name


def _builtins(module, base) -> dict:
    return {name: obj for name, obj in vars(module).items()
            if isinstance(obj, type) and issubclass(obj, base) and obj.__module__.startswith(__package__ + ".")}


BUILTINS = {"layers": {n: getattr(layers, n) for n in layers.__all__},
            "losses": _builtins(losses, losses.Loss),
            "optimizers": {**_builtins(optimizers, optimizers.Optimizer), **optimizers.SCHEDULES},
            "metrics": _builtins(metrics, metrics.Metric),
            "initializers": _builtins(initializers, initializers.Initializer),
            "regularizers": _builtins(regularizers, regularizers.Regularizer),
            "constraints": _builtins(constraints, constraints.Constraint)}  # models.py adds "models"


def register_keras_serializable(package: str = "Custom", name: str | None = None):
    """A decorator registering a class (with get_config) or a function under "package>name" (name defaults to
    its __name__), so that saved models that use it load without custom_objects."""
    if not isinstance(package, str) or ">" in package:
        raise ValueError(f"register_keras_serializable: package must be a string without '>', got {package!r}")

    def decorator(obj):
        if not (inspect.isclass(obj) or inspect.isfunction(obj)):
            raise TypeError(f"register_keras_serializable: decorates a class or a function, got {obj!r}")
        if inspect.isclass(obj) and not hasattr(obj, "get_config"):
            raise TypeError(f"register_keras_serializable: class {obj.__name__} needs a get_config method")
        key = f"{package}>{name or obj.__name__}"
        if key in _REGISTERED and _REGISTERED[key] is not obj:
            raise ValueError(f"register_keras_serializable: {key!r} is already registered for {_REGISTERED[key]!r}")
        _REGISTERED[key] = obj
        _NAMES[id(obj)] = key
        return obj
    return decorator


register_serializable = register_keras_serializable


def get_registered_name(obj) -> str:
    """The name obj was registered under, else its __name__."""
    return _NAMES.get(id(obj), obj.__name__)


def get_registered_object(name: str, custom_objects: dict | None = None):
    """The class or function registered (or given in custom_objects) under name, else None."""
    return (custom_objects or {}).get(name) or _REGISTERED.get(name)


def _module_of(cls) -> str | None:
    for module, table in BUILTINS.items():
        if table.get(cls.__name__) is cls:
            return module
    return None


def serialize(obj):
    """JSON-able data for obj: a config value, an object with get_config, or a named function."""
    if obj is None or isinstance(obj, (bool, int, float, str)):
        return obj
    if isinstance(obj, (list, tuple)):
        return [serialize(v) for v in obj]
    if isinstance(obj, dict):
        if not all(isinstance(k, str) for k in obj):
            raise TypeError(f"serialize: dict keys must be strings, got {list(obj)!r}")
        return {k: serialize(v) for k, v in obj.items()}
    if inspect.isfunction(obj) or inspect.isbuiltin(obj):
        if id(obj) not in _NAMES and obj.__name__ == "<lambda>":
            raise TypeError("serialize: a lambda cannot be saved (its code would have to be evaluated on load); "
                            "use a def function registered with @ad.saving.register_keras_serializable()")
        return {"module": None, "class_name": "function", "config": get_registered_name(obj)}
    if hasattr(obj, "get_config"):
        cls = type(obj)
        module = None if id(cls) in _NAMES else _module_of(cls)
        return {"module": module, "class_name": get_registered_name(cls) if module is None else cls.__name__,
                "config": serialize(obj.get_config())}
    raise TypeError(f"serialize: cannot save a {type(obj).__name__} ({obj!r}); give it get_config()")


def is_entry(data) -> bool:
    """Whether data is a serialized object (not a plain dict of config values)."""
    return isinstance(data, dict) and "class_name" in data and "config" in data and \
        set(data) <= {"module", "class_name", "config", "registered_name"}


def lookup(data: dict, custom_objects: dict | None = None):
    """The class or function a serialized entry names (ValueError when unknown: nothing is imported)."""
    name, module = data.get("class_name"), data.get("module")
    if not isinstance(name, str) or not (module is None or isinstance(module, str)):
        raise ValueError(f"deserialize: class_name and module must be strings, got {name!r} and {module!r}")
    if name == "function":
        name = data["config"]
        if not isinstance(name, str):
            raise ValueError(f"deserialize: a function's config must be its name, got {name!r}")
    found = get_registered_object(name, custom_objects)
    if found is None and module is not None:
        found = BUILTINS.get(module, {}).get(name)
    if found is None:
        raise ValueError(f"deserialize: unknown {'function' if data['class_name'] == 'function' else 'class'} "
                         f"{name!r}" + (f" in {module!r}" if module else "") +
                         "; register it with @ad.saving.register_keras_serializable() or pass it in custom_objects")
    return found


def deserialize(data, custom_objects: dict | None = None):
    """The object serialize() described (plain values as they are)."""
    if isinstance(data, list):
        return [deserialize(v, custom_objects) for v in data]
    if not isinstance(data, dict):
        return data
    if not is_entry(data):
        return {k: deserialize(v, custom_objects) for k, v in data.items()}
    found = lookup(data, custom_objects)
    if data["class_name"] == "function":
        return found
    config = data["config"]
    if not isinstance(config, dict):
        raise ValueError(f"deserialize: the config of {data['class_name']!r} must be an object, got "
                         f"{type(config).__name__}")
    if not inspect.isclass(found):
        raise ValueError(f"deserialize: {data['class_name']!r} names a function, not a class")
    own = getattr(found, "builds_own_config", False)  # (a model's config holds layers it builds itself)
    if not own:
        config = {k: deserialize(v, custom_objects) for k, v in config.items()}
    try:
        if own:
            return found.from_config(config, custom_objects=custom_objects)
        return found.from_config(config) if hasattr(found, "from_config") else found(**config)
    except (TypeError, ValueError, KeyError, AttributeError, IndexError, OverflowError) as e:
        raise ValueError(f"deserialize: cannot build {data['class_name']} from its config: "
                         f"{type(e).__name__}: {e}") from None


__all__ = ["deserialize", "get_registered_name", "get_registered_object", "register_keras_serializable",
           "register_serializable", "serialize"]
