locals {
  x = 1
}
/* never closed
resource "aws_iam_user" "c" {
  name = "c"
}
