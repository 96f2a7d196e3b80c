"""Responsible AI: group fairness audits and mitigation (`fairness`, with an HTML `report`) and
robustness to corruptions and adversarial attacks (`robustness`)."""
