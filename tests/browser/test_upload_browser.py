"""A learner's own CSV in Chromium: upload it on the bias audit page, train, and get the audit."""

import numpy as np
import pandas as pd
import pytest

pytestmark = pytest.mark.browser


def test_bias_audit_of_an_uploaded_csv(page, app_url, idle, tmp_path):
    rng = np.random.default_rng(0)
    n = 240
    gender = rng.choice(["w", "m"], n)
    income = rng.normal(size=n) + np.where(gender == "m", 0.8, 0.0)
    csv = tmp_path / "hiring.csv"
    pd.DataFrame({"region": rng.choice(["north", "south"], n), "gender": gender, "income": income,
                  "hired": (income + rng.normal(0, 0.5, n) > 0.4).astype(int)}).to_csv(csv, index=False)

    page.goto(f"{app_url}/bias_audit")
    idle(page, timeout_s=120)
    main = page.locator('[data-testid="stMain"]')
    main.locator('[data-testid="stSelectbox"]').first.click()   # the Data selectbox
    page.get_by_role("option", name="Upload a CSV...").click()
    idle(page)
    main = page.locator('[data-testid="stMain"]')   # the sidebar has model uploaders too
    main.locator('[data-testid="stFileUploader"] input[type="file"]').set_input_files(str(csv))
    idle(page, timeout_s=120)
    assert main.get_by_text("Sensitive column(s)").count() == 1
    page.get_by_role("button", name="Train the network").click()
    idle(page, timeout_s=180)
    assert page.locator('[data-testid="stException"]').count() == 0
    metric = page.locator('[data-testid="stMetric"]').filter(has_text="Demographic parity difference")
    value = float(metric.first.locator('[data-testid="stMetricValue"]').inner_text())
    assert 0.0 <= value <= 1.0
    assert main.get_by_text("Four-fifths").count() >= 1
