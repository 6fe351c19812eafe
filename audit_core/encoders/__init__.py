"""Auditing encoders (ONNX models that output embeddings, optionally with a masked-LM head).

`audit.run_encoder_audit` is the path `runner.run_audit` hands such models to; `distance`
holds the neighbour-distance attack the `embedding_distance` probe reads.
"""
