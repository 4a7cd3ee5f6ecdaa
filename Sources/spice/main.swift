import Tensor
FastBLASCore.ensure()
print(BLASInfo.summary)
