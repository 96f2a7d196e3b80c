"""Evaluation: metrics from scikit-learn (`metrics`) and honest baselines with k-fold cross-validation
(`baselines`)."""
