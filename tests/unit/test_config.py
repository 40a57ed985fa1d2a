import pickle

import pytest
from pydantic import SecretStr

from dynamodb_wrapper_async.config import DynamoDBConfig
from dynamodb_wrapper_async.exceptions import ValidationError

SECRET = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"
TOKEN = "FwoGZXIvYXdzEXAMPLESESSIONTOKEN"


def env(**values: str) -> dict[str, str]:
    return {"AWS_ACCESS_KEY_ID": "AKIDEXAMPLE", "AWS_SECRET_ACCESS_KEY": SECRET, **values}


def test_from_env_reads_every_variable() -> None:
    config = DynamoDBConfig.from_env(
        env(
            AWS_SESSION_TOKEN=TOKEN,
            AWS_REGION="eu-west-1",
            DYNAMODB_ENDPOINT_URL="http://127.0.0.1:8000",
            DYNAMODB_TABLE_PREFIX="dev_",
            DYNAMODB_USER_TIMEZONE="America/New_York",
            DYNAMODB_MAX_CONCURRENCY="7",
        )
    )
    assert config.region_name == "eu-west-1"
    assert config.credentials() == {
        "aws_access_key_id": "AKIDEXAMPLE",
        "aws_secret_access_key": SECRET,
        "aws_session_token": TOKEN,
    }
    assert isinstance(config.aws_secret_access_key, SecretStr)
    assert config.endpoint_url == "http://127.0.0.1:8000"
    assert config.table_name("pipeline_config") == "dev_pipeline_config"
    assert config.user_timezone == "America/New_York"
    assert config.max_concurrency == 7
    assert config.pool_size == 7


def test_default_region_falls_back_and_empty_values_are_unset() -> None:
    config = DynamoDBConfig.from_env({"AWS_DEFAULT_REGION": "ap-south-1", "AWS_PROFILE": ""})
    assert config.region_name == "ap-south-1"
    assert config.profile_name is None
    assert config.aws_access_key_id is None  # the default AWS credential chain applies


def test_from_env_uses_process_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DYNAMODB_TABLE_PREFIX", "ci_")
    assert DynamoDBConfig.from_env().table_prefix == "ci_"


def test_from_env_never_falls_back_to_a_local_endpoint() -> None:
    assert DynamoDBConfig.from_env({}).endpoint_url is None


@pytest.mark.parametrize(
    ("variable", "value"),
    [
        ("DYNAMODB_USER_TIMEZONE", "Mars/Olympus_Mons"),
        ("DYNAMODB_MAX_CONCURRENCY", "zero"),
        ("DYNAMODB_MAX_CONCURRENCY", "0"),
        ("DYNAMODB_ENDPOINT_URL", "localhost:8000"),
        ("AWS_REGION", "not a region"),
        ("DYNAMODB_TABLE_PREFIX", "bad prefix!"),
        ("DYNAMODB_READ_TIMEOUT", "-1"),
    ],
)
def test_bad_variable_is_named_and_secret_is_not_echoed(variable: str, value: str) -> None:
    with pytest.raises(ValidationError) as caught:
        DynamoDBConfig.from_env(env(**{variable: value}))
    text = f"{caught.value} {caught.value!r}"
    assert variable in text
    assert SECRET not in text
    assert caught.value.__cause__ is None


def test_secrets_never_in_repr_str_or_pickled_text() -> None:
    config = DynamoDBConfig.from_env(env(AWS_SESSION_TOKEN=TOKEN))
    for text in (repr(config), str(config), f"{config}", repr(config.model_dump())):
        assert SECRET not in text
        assert TOKEN not in text
    assert pickle.loads(pickle.dumps(config)) == config


def test_wrong_secret_type_error_does_not_echo_input() -> None:
    with pytest.raises(ValidationError) as caught:
        DynamoDBConfig(aws_access_key_id="AKID", aws_secret_access_key=12345)  # type: ignore[arg-type]
    assert "12345" not in str(caught.value)
    assert caught.value.__cause__ is None
    assert caught.value.__suppress_context__


def test_key_id_without_secret_is_rejected() -> None:
    with pytest.raises(ValidationError, match="together"):
        DynamoDBConfig(aws_access_key_id="AKID")


def test_config_is_frozen_hashable_and_equal_by_value() -> None:
    a = DynamoDBConfig(table_prefix="x_")
    b = DynamoDBConfig(table_prefix="x_")
    assert a == b
    assert hash(a) == hash(b)
    assert a != DynamoDBConfig(table_prefix="y_")
    with pytest.raises(ValidationError):
        a.table_prefix = "z_"  # type: ignore[misc]


def test_unknown_setting_is_rejected() -> None:
    with pytest.raises(ValidationError, match="max_concurency"):
        DynamoDBConfig.from_env({}, max_concurency=3)


def test_model_copy_revalidates_and_keeps_secrets_hidden() -> None:
    config = DynamoDBConfig.from_env(env())
    copied = config.model_copy(update={"aws_secret_access_key": "OTHER-SECRET-VALUE"})
    assert isinstance(copied.aws_secret_access_key, SecretStr)
    assert "OTHER-SECRET-VALUE" not in repr(copied)
    with pytest.raises(ValidationError, match="max_concurrency"):
        config.model_copy(update={"max_concurrency": 0})


def test_an_endpoint_url_with_user_info_is_never_shown() -> None:
    """Accepted (the connection goes to its host), but neither its repr nor an error shows it:
    with an unescaped "/" in the password, any part of the URL may be the secret."""
    config = DynamoDBConfig(endpoint_url="http://AKIAEXAMPLE:pass@127.0.0.1:8000")
    assert "AKIAEXAMPLE" not in f"{config!r} {config}"
    with pytest.raises(ValidationError) as caught:
        DynamoDBConfig(endpoint_url=f"http://AKIAEXAMPLE:{SECRET}@ 127.0.0.1:8000")
    text = f"{caught.value} {caught.value!r}"
    assert "endpoint_url" in text
    for part in ("AKIAEXAMPLE", *SECRET.split("/")):
        assert part not in text, text
