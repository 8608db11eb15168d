"""The data owner's federated-learning server (``puhui federated serve``)."""
