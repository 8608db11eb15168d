"""Vertical federated learning with a data owner: PSI alignment, Paillier logistic regression."""
