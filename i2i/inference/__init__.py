"""Using a trained generator: loading any checkpoint, translating images, exporting to ONNX.

- :mod:`i2i.inference.load`: i2i checkpoints, foreign ``.pth`` files (through plugins' weight
  converters, read with ``weights_only=True``) and ``.onnx`` files, behind one interface.
- :mod:`i2i.inference.translate`: padding to the size multiple, tiling, batching, files.
- :mod:`i2i.inference.onnx`: export with dynamic batch and spatial size, and running it.
"""
