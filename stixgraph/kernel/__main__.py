from ipykernel.kernelapp import IPKernelApp

from . import StixgraphKernel

IPKernelApp.launch_instance(kernel_class=StixgraphKernel)
