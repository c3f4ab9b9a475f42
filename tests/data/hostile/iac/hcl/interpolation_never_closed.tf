resource "aws_iam_user" "d" {
  name = "${var.d"
}
