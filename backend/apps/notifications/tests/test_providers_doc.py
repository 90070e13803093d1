"""docs/providers.md lists the one table of provider errors exactly as the code has it."""

from pathlib import Path

from integrations.messaging.errors import PROVIDER_ERRORS, Learned, OnFailure, error_rule

DOC = Path(__file__).resolve().parents[4] / "docs" / "providers.md"


def _documented_rows() -> dict[tuple[str, str], tuple[str, str]]:
    text = DOC.read_text()
    table = text.split("<!-- provider-errors -->")[1].split("<!-- /provider-errors -->")[0]
    rows = {}
    for line in table.strip().splitlines()[2:]:
        provider, code, _meaning, action, learned, source = (cell.strip() for cell in line.strip("|").split("|"))
        assert source.startswith("[") and "](https://" in source, line  # each code names its documentation
        rows[(provider, code)] = (action.strip("`"), "" if learned == "—" else learned)
    return rows


def test_docs_list_every_provider_error_code_with_what_the_code_does():
    documented = _documented_rows()
    coded = {key: (rule.on_failure.value, rule.learned.value) for key, rule in PROVIDER_ERRORS.items()}

    assert documented == coded


def test_the_table_covers_the_codes_the_issue_names():
    meta = {"131026", "131049", "131050", "131047", "132015", "132016", "130429", "131056"}
    twilio = {"63003", "63016", "63024"}
    assert {("whatsapp_cloud", code) for code in meta} | {("twilio", code) for code in twilio} <= set(PROVIDER_ERRORS)


def test_codes_outside_the_table_retry_when_the_provider_is_down_and_fall_back_otherwise():
    assert error_rule("twilio", "99999", http_status=503).on_failure == OnFailure.RETRY
    assert error_rule("twilio", "99999", http_status=429).on_failure == OnFailure.RETRY
    assert error_rule("whatsapp_cloud", "12345", http_status=400).on_failure == OnFailure.FALL_BACK
    assert error_rule("whatsapp_cloud", "131026", http_status=503).learned == Learned.RECIPIENT_NOT_ON_WHATSAPP
