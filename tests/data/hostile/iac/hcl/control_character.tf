locals {
  x = 1
}
