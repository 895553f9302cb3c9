"""CycleGAN for i2i: the ``cyclegan`` training method (:class:`CycleGANMethod`) and its image
pool (:class:`ImagePool`). Networks and objectives come from the recipe, through i2i's
registries: by default ``resnet_9blocks`` generators and instance-norm ``patchgan``
discriminators from i2i-pix2pix, and ``lsgan``.
"""

from i2i_cyclegan.method import CycleGANMethod
from i2i_cyclegan.pool import ImagePool

__all__ = ["CycleGANMethod", "ImagePool"]
