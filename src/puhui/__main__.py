"""``python -m puhui``, and the file ``spark-submit`` runs on a cluster's driver (docs/spark.md)."""

from puhui.cli.main import main

if __name__ == "__main__":
    main()
