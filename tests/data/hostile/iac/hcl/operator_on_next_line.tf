locals {
  x = var.a
    + var.b
}
