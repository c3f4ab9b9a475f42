resource "aws_iam_user" "many" {
  count = 1000000000
  name  = "bulk-${count.index}"
}
